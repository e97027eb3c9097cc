/** Times as people read them: `2026-12-06 14:03 UTC`, in the policy's `displayTimeZone`. */
import { escapeHtml } from './html';

const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formats.set(timeZone, format);
  }
  return format;
}

/** `2026-12-06 14:03 UTC` (or `2026-12-06 15:03 GMT+1` for Europe/Berlin); the input unchanged if it is no time. */
export function readableTime(iso: string, timeZone = 'UTC'): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = Object.fromEntries(
    formatFor(timeZone)
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}

/** A readable time in a `<time>` element that keeps the exact instant. */
export function timeHtml(iso: string, timeZone = 'UTC'): string {
  return `<time datetime="${escapeHtml(iso)}">${escapeHtml(readableTime(iso, timeZone))}</time>`;
}
