/** The read-only request page: its signed link, every value escaped, the timeline with actors and times. */
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { requestPageLink, requestPageSignature, verifyRequestPageSignature } from '../../lambdas/domain/request-link';
import { InvalidLinkError } from '../../lambdas/domain/errors';
import { requestPageHtml } from '../../lambdas/presentation/request-page';
import { openRequestPage } from '../../lambdas/use-cases/request-page';
import { requestRecord } from '../support/fixtures';

const XSS = '<script>alert(1)</script>';
const KEY = 'test-link-key';

const request: PoolRequestRecord = {
  ...requestRecord('r-page'),
  status: 'REJECTED',
  reason: 'APPROVER_REJECTED',
  nodePoolName: 'np-<b>',
  justification: XSS,
  billing: { mode: '1', periodNum: '2', periodType: '2', autoRenew: '1', orderId: 'ORD"1' },
  steps: [
    { id: 'submitted', step: 'submitted', outcome: 'ok', at: '2026-11-26T10:00:00.000Z', actor: 'alice@example.com' },
    {
      id: 'approval-requested:manager:1',
      step: 'approval_requested',
      outcome: 'ok',
      at: '2026-11-26T10:00:01.000Z',
      detail: { stage: 'manager', approvers: ['bob@example.com'], requiredApprovals: 1 },
    },
    {
      id: 'vote:manager:bob',
      step: 'rejected',
      outcome: 'refused',
      at: '2026-11-26T10:05:00.000Z',
      actor: 'bob@example.com',
      detail: { stage: 'manager', comment: `no ${XSS}` },
    },
  ],
};

describe('request page link', () => {
  it('is signed for one request, and any other signature is refused', () => {
    const link = requestPageLink('https://poolgate.example.com/', 'r-page', KEY);
    expect(link).toBe(`https://poolgate.example.com/requests/r-page/page?sig=${requestPageSignature('r-page', KEY)}`);
    expect(verifyRequestPageSignature('r-page', requestPageSignature('r-page', KEY), KEY)).toBe(true);
    expect(verifyRequestPageSignature('r-other', requestPageSignature('r-page', KEY), KEY)).toBe(false);
    expect(verifyRequestPageSignature('r-page', requestPageSignature('r-page', 'other-key'), KEY)).toBe(false);
    expect(verifyRequestPageSignature('r-page', '', KEY)).toBe(false);
  });

  it('reads nothing when the signature does not match', async () => {
    const get = jest.fn(async () => request);
    await expect(openRequestPage('r-page', 'forged', { requests: { get }, linkKey: KEY })).rejects.toThrow(
      InvalidLinkError,
    );
    expect(get).not.toHaveBeenCalled();
    await expect(
      openRequestPage('r-page', requestPageSignature('r-page', KEY), { requests: { get }, linkKey: KEY }),
    ).resolves.toBe(request);
  });
});

describe('request page', () => {
  const html = requestPageHtml(request, { nodeTracking: true, price: { hourly: 1.5, currency: 'USD' } });

  it('escapes every value it shows', () => {
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('np-<b>');
    expect(html).toContain('np-&lt;b&gt;');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('ORD&quot;1');
  });

  it('shows the status with its reason, the billing and the timeline with actors and times', () => {
    expect(html).toContain('<strong>REJECTED</strong>: rejected (reason <code>APPROVER_REJECTED</code>)');
    expect(html).toContain('yearly/monthly, 2 month(s), auto-renew');
    expect(html).toContain('1 node(s) x 1.50 USD/h = 1.50 USD/h (list price)');
    expect(html).toMatch(/<caption>[^<]+<\/caption>/);
    expect(html).toContain('<th scope="col">By</th>');
    expect(html).toContain('<time datetime="2026-11-26T10:05:00.000Z">2026-11-26 10:05:00 UTC</time>');
    expect(html).toMatch(/Rejected<\/td>\s*<td class="outcome-refused">refused<\/td>\s*<td>bob@example.com<\/td>/);
    expect(html).toContain('stage manager; asked bob@example.com');
    expect(html).toContain('lang="en"');
    // Read-only: no form, no script.
    expect(html).not.toMatch(/<form|<script|<input/);
  });

  it('says when more is coming, and stops saying so at a final status', () => {
    const waiting = requestPageHtml({ ...request, status: 'CREATED', reason: undefined }, { nodeTracking: true });
    expect(waiting).toContain('reload it for news');
    const done = requestPageHtml({ ...request, status: 'CREATED', reason: undefined }, { nodeTracking: false });
    expect(done).not.toContain('reload it for news');
    expect(done).toContain('status-good');
  });
});
