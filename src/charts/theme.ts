/**
 * Colours and fonts shared by every chart. Sized to be read on a phone, where a 1000 px wide image is shown about
 * 1:1: nothing below 16 px, lines at least 2 px unless there are too many to fit.
 */
export const CHART_THEME = {
  background: '#111827',
  grid: '#374151',
  /** Grid levels with no order on them: brighter than the axis grid so they read as data, dimmer than orders. */
  muted: '#6b7280',
  text: '#e5e7eb',
  equity: '#38bdf8',
  profit: '#4ade80',
  loss: '#f87171',
  accent: '#fbbf24',
} as const;

// DejaVu Sans is the font the Docker image installs (fonts-dejavu-core); naming it keeps text metrics identical
// between a developer machine and production instead of depending on Skia's fallback choice.
export const FONT_FAMILY = "'DejaVu Sans', 'Helvetica Neue', Arial, sans-serif";
export const FONT = { family: FONT_FAMILY, size: 18 } as const;
export const SMALL_FONT = { family: FONT_FAMILY, size: 16 } as const;
export const TITLE_FONT = { family: FONT_FAMILY, size: 22, weight: 'bold' } as const;

/** The same font as a canvas `ctx.font` string, for text a plugin draws itself. */
export function canvasFont(font: { readonly size: number; readonly weight?: string }): string {
  return `${font.weight ?? 'normal'} ${font.size}px ${FONT_FAMILY}`;
}
