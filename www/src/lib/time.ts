const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** "just now", "5 minutes ago", "yesterday", "in 2 hours" (clock skew), in the user's locale. */
export function formatRelative(iso: string, now: number = Date.now(), locale?: string): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const seconds = Math.round((then - now) / 1000);
  if (Math.abs(seconds) < 45) return 'just now';
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(Math.round(seconds / 60), 'minute');
}

/** "25 Nov 2025, 19:48:03" in the user's locale and time zone. */
export function formatAbsolute(iso: string, locale?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(date);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * The value of an `<input type="datetime-local" step="1">` for `date`, in local time, normalised as
 * browsers do (seconds left out when zero): `2025-11-25T19:48:03`, `2025-11-25T19:48`.
 */
export function toDateTimeLocalValue(date: Date): string {
  const seconds = date.getSeconds();
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}${seconds ? `:${pad(seconds)}` : ''}`
  );
}

/** A datetime-local value (local time, with or without seconds) as a UTC RFC 3339 instant; null when it is not one. */
export function instantFromDateTimeLocal(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The user's time zone name ("Europe/London"), to say what a datetime-local input means. */
export function localTimeZone(): string | undefined {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
}

const DURATION_UNITS: [string, number][] = [
  ['d', 24 * 3600],
  ['h', 3600],
  ['min', 60],
  ['s', 1],
];

/**
 * A length of time in its two largest units, rounded to the smaller: "2 h 5 min", "3 d", "45 s",
 * "under 1 s". Short unit names keep a stat readable on a phone.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 0.5) return 'under 1 s';
  const fits = DURATION_UNITS.findIndex(([, size]) => seconds >= size);
  const largest = fits === -1 ? DURATION_UNITS.length - 1 : fits;
  const precision = DURATION_UNITS[Math.min(largest + 1, DURATION_UNITS.length - 1)][1];
  // Rounding may carry into the next unit (59 min 59.8 s is 1 h): pick the units after rounding.
  let rest = Math.round(seconds / precision) * precision;
  const parts: string[] = [];
  for (const [name, size] of DURATION_UNITS) {
    if (parts.length === 0 && rest < size) continue;
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count} ${name}`);
    if (parts.length === 2 || rest === 0) break;
  }
  return parts.join(' ');
}

/** The same length as an ISO 8601 duration for `<time dateTime>`: `PT2H5M`, `P3DT4H`. */
export function isoDuration(seconds: number): string {
  let rest = Math.max(0, Math.round(seconds));
  const days = Math.floor(rest / 86400);
  rest -= days * 86400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const secs = rest - minutes * 60;
  const time = `${hours ? `${hours}H` : ''}${minutes ? `${minutes}M` : ''}${secs ? `${secs}S` : ''}`;
  return `P${days ? `${days}D` : ''}${time ? `T${time}` : days ? '' : 'T0S'}`;
}
