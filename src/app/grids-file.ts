import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { CreateGridInput } from './grid-service.js';

export const GridsFile = z.object({
  grids: z.array(
    CreateGridInput.extend({
      name: z
        .string()
        .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'name is required (letters, digits, _ . -)' }),
    }),
  ),
});
export type GridsFile = z.infer<typeof GridsFile>;

export class GridsFileError extends Error {
  override readonly name = 'GridsFileError';
}

/**
 * Reads the grids file (JSON). Errors name the file, the field and the problem:
 * `grids.json: grids[1].lower: lower must be a plain positive decimal`.
 */
export function readGridsFile(path: string): GridsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new GridsFileError(
      `${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new GridsFileError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = GridsFile.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
    throw new GridsFileError(`${path}: ${problems.join('; ')}`);
  }
  const names = new Set<string>();
  for (const [k, g] of parsed.data.grids.entries()) {
    if (names.has(g.name)) throw new GridsFileError(`${path}: grids[${k}].name: ${g.name} is used twice`);
    names.add(g.name);
  }
  return parsed.data;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (out, p) => (typeof p === 'number' ? `${out}[${p}]` : out ? `${out}.${String(p)}` : String(p)),
    '',
  );
}
