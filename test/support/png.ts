import { createCanvas, loadImage } from '@napi-rs/canvas';

/** Width, height and how many distinct colours a PNG has: a rendered chart is not blank if it has many. */
export async function inspectPng(png: Buffer): Promise<{ width: number; height: number; colours: number }> {
  expectPngSignature(png);
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const { data } = ctx.getImageData(0, 0, image.width, image.height);
  const colours = new Set<number>();
  for (let i = 0; i < data.length; i += 4) colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
  return { width: image.width, height: image.height, colours: colours.size };
}

function expectPngSignature(png: Buffer): void {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => png[i] === b)) throw new Error('not a PNG');
}
