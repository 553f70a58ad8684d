const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
// 1970-01-01 was a Thursday: week ticks measured from here fall on Mondays.
const FIRST_MONDAY = 4 * DAY;
const FIXED_STEPS = [
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  4 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  WEEK,
  2 * WEEK,
];
// Divisors of 12, so every step starts on the same months each year (Jan, Apr, Jul, Oct for 3); then whole years.
const MONTH_STEPS = [1, 2, 3, 6, 12, 24, 60, 120, 240, 600, 1200];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface TimeTicks {
  readonly values: readonly number[];
  readonly label: (ms: number) => string;
}

const pad = (n: number) => String(n).padStart(2, '0');

function dayLabel(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
}

/** Hours within a day; the midnight tick names the day instead, so a 24 h window that spans two dates says so. */
function hourLabel(ms: number): string {
  const d = new Date(ms);
  if (d.getUTCHours() === 0 && d.getUTCMinutes() === 0) return dayLabel(ms);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

function monthLabel(ms: number): string {
  const d = new Date(ms);
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}

function yearLabel(ms: number): string {
  return String(new Date(ms).getUTCFullYear());
}

/**
 * Tick positions on round UTC times (hours for a day, days or Mondays for a week or month, month starts beyond), the
 * finest step that gives at most `maxTicks` ticks between `min` and `max`. Chart.js's own time scale would need a
 * date adapter package; this is the little of it we use.
 */
export function timeTicks(min: number, max: number, maxTicks: number): TimeTicks {
  for (const step of FIXED_STEPS) {
    const origin = step >= WEEK ? FIRST_MONDAY : 0;
    const first = origin + Math.ceil((min - origin) / step) * step;
    if (Math.floor((max - first) / step) + 1 > maxTicks) continue;
    const values: number[] = [];
    for (let t = first; t <= max; t += step) values.push(t);
    return { values, label: step < DAY ? hourLabel : dayLabel };
  }
  const start = new Date(min);
  const firstMonth = start.getUTCFullYear() * 12 + start.getUTCMonth();
  const spanMonths = new Date(max).getUTCFullYear() * 12 + new Date(max).getUTCMonth() - firstMonth;
  const step = MONTH_STEPS.find((s) => spanMonths / s + 1 <= maxTicks) ?? MONTH_STEPS.at(-1)!;
  const values: number[] = [];
  for (let m = Math.ceil(firstMonth / step) * step; ; m += step) {
    const t = Date.UTC(Math.floor(m / 12), m % 12, 1);
    if (t > max) break;
    if (t >= min) values.push(t);
  }
  return { values, label: step < 12 ? monthLabel : yearLabel };
}
