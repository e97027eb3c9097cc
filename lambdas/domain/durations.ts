/**
 * ISO 8601 durations as the policy file writes them (days, hours, minutes, seconds: `PT4H`, `P2D`, `PT30S`),
 * read and written. Pure, with no schema library: the domain and the presentation use it in every bundle.
 */
const ISO_DURATION = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export function durationSeconds(duration: string): number {
  const match = ISO_DURATION.exec(duration);
  if (!match || duration === 'P' || duration.endsWith('T')) throw new Error(`not an ISO 8601 duration: ${duration}`);
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  return Number(d) * 86400 + Number(h) * 3600 + Number(m) * 60 + Number(s);
}

/** `P1DT2H`, `PT30M`, `PT45S`: an ISO 8601 duration of whole seconds. */
export function formatSeconds(total: number): string {
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const time = `${h ? `${h}H` : ''}${m ? `${m}M` : ''}${s ? `${s}S` : ''}`;
  return `P${d ? `${d}D` : ''}${time ? `T${time}` : d ? '' : 'T0S'}`;
}
