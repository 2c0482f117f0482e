/**
 * ISO 8601 weeks of UTC dates, as `GET /stats` counts them: weeks start on Monday, and week 1 of a
 * week-year is the one holding its first Thursday. So a date's week-year can differ from its
 * calendar year: 2027-01-01 is in 2026-W53, 2024-12-30 in 2025-W01.
 */

const DAY_MS = 24 * 3600 * 1000;

export interface IsoWeek {
  /** The ISO week-year (not always the calendar year). */
  year: number;
  /** 1..53. */
  week: number;
}

function startOfUtcDay(date: Date): number {
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}

/** 1 for Monday … 7 for Sunday. */
function isoWeekday(day: number): number {
  return new Date(day).getUTCDay() || 7;
}

/** The ISO week of `date`'s UTC calendar day. */
export function isoWeekOf(date: Date): IsoWeek {
  const day = startOfUtcDay(date);
  // A week belongs to the year its Thursday falls in.
  const thursday = new Date(day + (4 - isoWeekday(day)) * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS / 7) + 1;
  return { year, week };
}

/** `2026-W07`, as the API writes a week. */
export function formatIsoWeek({ year, week }: IsoWeek): string {
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** `2026-W07` -> {year: 2026, week: 7}; undefined when it is not written that way. */
export function parseIsoWeek(text: string): IsoWeek | undefined {
  const match = /^(\d{4})-W(\d{2})$/.exec(text);
  if (!match) return undefined;
  const week = Number(match[2]);
  return week >= 1 && week <= 53 ? { year: Number(match[1]), week } : undefined;
}

/** The Monday (00:00 UTC) that starts the ISO week of `date`. */
export function isoWeekStart(date: Date): Date {
  const day = startOfUtcDay(date);
  return new Date(day - (isoWeekday(day) - 1) * DAY_MS);
}

/** `date`'s UTC calendar day as `YYYY-MM-DD`. */
export function utcDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The last `count` ISO weeks up to and including `now`'s, oldest first, each with its Monday. */
export function lastIsoWeeks(now: Date, count: number): { week: string; start: string }[] {
  const current = isoWeekStart(now).getTime();
  return Array.from({ length: count }, (_, i) => {
    const monday = new Date(current - (count - 1 - i) * 7 * DAY_MS);
    return { week: formatIsoWeek(isoWeekOf(monday)), start: utcDate(monday) };
  });
}
