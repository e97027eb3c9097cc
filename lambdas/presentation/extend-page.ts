/** The extension page a reminder's personal link opens: the lease, and a form that asks for an extension. */
import type { NodePoolRecord } from '../domain/nodepool-record';
import { escapeHtml, factsTable, page } from './html';
import { readableTime } from './time';

export function extendPageHtml(
  record: NodePoolRecord,
  who: string,
  options: { action: string; deleteAt: string; timeZone: string; estimate?: string },
): string {
  const facts: Array<[string, unknown]> = [
    ['Node pool', `${record.projectId}/${record.poolName}/${record.nodePoolName}`],
    ['Flavor', `${record.count ?? ''} x ${record.flavor ?? ''}`],
    ['Lease ends', record.leaseEndsAt ? readableTime(record.leaseEndsAt, options.timeZone) : ''],
    ['Deleted at', readableTime(options.deleteAt, options.timeZone)],
    ['Estimated cost of the whole lease', options.estimate],
    ['You', who],
  ];
  const choices = ['PT12H', 'P1D', 'P3D', 'P7D', 'P14D']
    .map((d) => `<option value="${d}"${d === 'P7D' ? ' selected' : ''}>${d}</option>`)
    .join('');
  const body = `<h1>Extend the lease of ${escapeHtml(record.nodePoolName)}</h1>
${factsTable(facts)}
<form method="post" action="${escapeHtml(options.action)}">
<label for="duration">Extend by</label>
<select id="duration" name="duration">${choices}</select>
<button type="submit">Ask for the extension</button>
</form>
<p>The extension goes through the team's approval; the lease's end moves once it is approved.</p>`;
  return page(`Extend ${record.nodePoolName}`, body);
}

export function extensionAskedHtml(nodePoolName: string, requestId: string, status: string): string {
  return page(
    'Extension asked',
    `<h1>Extension asked</h1><p>Request ${escapeHtml(requestId)} to extend the lease of ${escapeHtml(nodePoolName)} is ${escapeHtml(status)}. You will hear when it is decided.</p>`,
  );
}
