import type { ApprovalRecord } from '../../lambdas/domain/approval';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import {
  AlreadyDecidedError,
  OpenRequestExistsError,
  ServiceUnavailableError,
  UnauthenticatedError,
  ValidationError,
} from '../../lambdas/domain/errors';
import { errorResponse } from '../../lambdas/handlers/http';
import { approvalRequestMail } from '../../lambdas/presentation/approval-mail';
import { approvalClosedPage, approvalFormPage, decisionRecordedPage } from '../../lambdas/presentation/approval-page';
import { approvalRequestMessage } from '../../lambdas/presentation/slack-messages';
import { outcomeHeadline } from '../../lambdas/presentation/outcome-mail';

const XSS = '<script>alert(1)</script>';

const request = {
  requestId: 'r-1',
  status: 'AWAITING_APPROVAL',
  requester: 'alice@example.com',
  team: 'ml-platform',
  projectId: 'p',
  poolName: 'pool',
  nodePoolName: 'np-1',
  flavor: 'modelarts.vm.2u4g.dcc',
  count: 2,
  maxCount: 3,
  billing: { mode: '1', periodNum: '2', periodType: '2' },
  justification: XSS,
  stages: [],
  steps: [],
} as unknown as PoolRequestRecord;

const approval = {
  approvalId: 'r-1.0',
  requestId: 'r-1',
  stageIndex: 0,
  stageName: 'manager',
  finalStage: true,
  approvers: ['bob@example.com'],
  approverSlackIds: {},
  requiredApprovals: 1,
  needsOrderId: false,
  votes: {},
  createdAt: '2026-11-26T00:00:00.000Z',
  expiresAt: '2026-11-28T00:00:00.000Z',
  taskToken: 'SECRET-TASK-TOKEN',
} as ApprovalRecord;

describe('approval page', () => {
  const html = approvalFormPage(
    request,
    approval,
    { approver: 'bob@example.com', signature: 'sig"><x', formToken: 't' },
    { timeZone: 'UTC' },
  );

  it('escapes every value it shows, including the hidden inputs', () => {
    expect(html).not.toContain(XSS);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('value="sig&quot;&gt;&lt;x"');
  });

  it('never shows the task token', () => {
    expect(html).not.toContain('SECRET-TASK-TOKEN');
  });

  it('summarises billing in words', () => {
    expect(html).toContain('yearly/monthly, 2 month(s)');
  });
});

describe('approval e-mail', () => {
  it('addresses one approver, names the node pool and carries the link once in each part', () => {
    const mail = approvalRequestMail(
      request,
      'manager',
      'bob@example.com',
      'https://gate/approvals/r-1.0?approver=bob%40example.com&sig=abc',
      approval.expiresAt,
    );
    expect(mail.to).toEqual(['bob@example.com']);
    expect(mail.subject).toContain('np-1');
    expect(mail.text.match(/https:\/\/gate\/approvals\//g)).toHaveLength(1);
    expect(mail.html).toContain('href="https://gate/approvals/r-1.0?approver=bob%40example.com&amp;sig=abc"');
    expect(mail.html).not.toContain(XSS);
  });
});

describe('billing as approvers see it', () => {
  const mailOf = (billing: PoolRequestRecord['billing']) =>
    approvalRequestMail({ ...request, billing }, 'manager', 'bob@example.com', 'https://gate/a', approval.expiresAt);

  it("says a request that named no billing mode goes pay-per-use as the pool's billing mode", () => {
    const mail = mailOf({ mode: '0', fromPool: true });
    expect(mail.text).toContain("pay-per-use (the pool's billing mode)");
    expect(mail.html).toContain('pay-per-use (the pool&#39;s billing mode)');
  });

  it('says plain pay-per-use for a request that asked for it', () => {
    const mail = mailOf({ mode: '0' });
    expect(mail.text).toContain('pay-per-use');
    expect(mail.text).not.toContain("the pool's billing mode");
  });
});

describe('error responses', () => {
  it.each([
    [new ValidationError('spec.resources.count: must be an integer >= 1'), 400, 'ModelArts.50004000'],
    [new UnauthenticatedError('missing bearer token'), 401, 'PoolGate.0401'],
    [new OpenRequestExistsError('r-9'), 409, 'PoolGate.0409'],
    [new AlreadyDecidedError('already decided'), 409, 'PoolGate.1409'],
    [new ServiceUnavailableError('try again', 5), 503, 'PoolGate.0503'],
  ])('maps %p to %i with the documented body', (error, status, code) => {
    const response = errorResponse(error);
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(String(response.body))).toEqual({ error_code: code, error_msg: error.message });
  });

  it('hides unexpected errors behind a 500 with the same shape', () => {
    const response = errorResponse(new TypeError('secret detail'));
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(String(response.body))).toEqual({ error_code: 'PoolGate.0500', error_msg: 'internal error' });
  });

  it('tells clients how to authenticate and when to retry', () => {
    expect(errorResponse(new UnauthenticatedError('x')).headers['www-authenticate']).toBe('Bearer');
    expect(errorResponse(new ServiceUnavailableError('x', 5)).headers['retry-after']).toBe('5');
  });
});

describe('what a decision means (approval page, e-mail, Slack)', () => {
  const checked = {
    ...request,
    justification: 'Q4 ranking model retraining',
    stages: [],
    steps: [
      {
        id: 'quota-checked',
        step: 'quota_checked',
        outcome: 'ok',
        at: '2026-12-06T14:00:00.000Z',
        detail: { flavor: 'modelarts.vm.2u4g.dcc', count: 2, limit: 10, inUseAfter: 8 },
      },
      {
        id: 'vote:manager:bob@example.com',
        step: 'approved',
        outcome: 'ok',
        at: '2026-12-06T14:03:00.000Z',
        actor: 'bob@example.com',
        detail: { stage: 'manager', comment: 'Needed for the Q4 launch' },
      },
    ],
  } as unknown as PoolRequestRecord;
  const finance = { ...approval, approvalId: 'r-1.1', stageIndex: 1, stageName: 'finance', needsOrderId: true };
  const context = {
    timeZone: 'UTC',
    price: { hourly: 1.2, currency: 'USD' },
    requestPage: 'https://gate/requests/r-1/page?sig=s',
  };
  const proof = { approver: 'carol@example.com', signature: 's', formToken: 't' };

  it('shows the quota before and after, the price, the earlier stage with its comment and the request page', () => {
    const html = approvalFormPage(checked, finance, proof, context);
    expect(html).toContain('6 of 10 in use, 8 after this');
    expect(html).toContain('2 node(s) x 1.20 USD/h = 2.40 USD/h');
    expect(html).toContain('manager: approved by bob@example.com');
    expect(html).toContain('<q>Needed for the Q4 launch</q>');
    expect(html).toContain('<time datetime="2026-12-06T14:03:00.000Z">2026-12-06 14:03 UTC</time>');
    expect(html).toContain('href="https://gate/requests/r-1/page?sig=s"');
  });

  it('marks the order id required for approving, and lets Reject through without it', () => {
    const html = approvalFormPage(checked, finance, proof, context);
    expect(html).toMatch(/<input type="text" id="orderId" name="orderId" required/);
    expect(html).toContain('(required to approve)');
    expect(html).toMatch(/value="reject" formnovalidate/);
    expect(html.indexOf('value="approve"')).toBeLessThan(html.indexOf('Request details'));
  });

  it('shows the form again with what was typed and the message when a decision was refused', () => {
    const html = approvalFormPage(checked, finance, proof, context, {
      error: 'orderId: the ModelArts order id is required',
      comment: 'ok from <finance>',
      orderId: 'ORD-1"',
    });
    expect(html).toContain('role="alert">orderId: the ModelArts order id is required</p>');
    expect(html).toContain('>ok from &lt;finance&gt;</textarea>');
    expect(html).toContain('value="ORD-1&quot;"');
  });

  it('puts the same context in the e-mail and in Slack', () => {
    const mail = approvalRequestMail(
      checked,
      'finance',
      'carol@example.com',
      'https://gate/approvals/r-1.1',
      approval.expiresAt,
      {
        price: context.price,
        requestPage: context.requestPage,
      },
    );
    expect(mail.text).toContain('Quota: 6 of 10 in use, 8 after this');
    expect(mail.text).toContain('Estimated price: 2 node(s) x 1.20 USD/h');
    expect(mail.text).toContain(
      '- manager: bob@example.com approved at 2026-12-06 14:03 UTC: "Needed for the Q4 launch"',
    );
    expect(mail.text).toContain("The request's page (status and every step): https://gate/requests/r-1/page?sig=s");
    expect(mail.text).toContain('it expires 2026-11-28 00:00 UTC');
    const slack = JSON.stringify(approvalRequestMessage(checked, finance, context).blocks);
    expect(slack).toContain('6 of 10 in use, 8 after this');
    expect(slack).toContain('2.40 USD/h');
    expect(slack).toContain(
      'manager: bob@example.com approved at 2026-12-06 14:03 UTC: \\"Needed for the Q4 launch\\"',
    );
    expect(slack).toContain('<https://gate/requests/r-1/page?sig=s|The request');
  });

  it('after a decision and on a closed link: who decided what and when, which node pool, the request page', () => {
    const decided = {
      ...finance,
      decision: 'approved' as const,
      decidedAt: '2026-12-06T15:00:00.000Z',
      votes: {
        'carol@example.com': {
          vote: 'approve' as const,
          at: '2026-12-06T15:00:00.000Z',
          comment: 'paid',
          orderId: 'ORD-9',
        },
      },
    };
    for (const html of [
      decisionRecordedPage(checked, decided, 'approve', 'approved', context),
      approvalClosedPage('Already decided', 'this approval was already decided: approved', checked, decided, context),
    ]) {
      expect(html).toContain(
        'carol@example.com approved at <time datetime="2026-12-06T15:00:00.000Z">2026-12-06 15:00 UTC</time> (order id ORD-9)',
      );
      expect(html).toContain('<q>paid</q>');
      expect(html).toContain('Node pool <code>np-1</code> (2 × modelarts.vm.2u4g.dcc) in pool pool');
      expect(html).toContain('href="https://gate/requests/r-1/page?sig=s"');
    }
    const cancelled = approvalClosedPage(
      'No longer open',
      'this request was cancelled',
      {
        ...checked,
        status: 'CANCELLED',
        steps: [
          ...checked.steps,
          {
            id: 'cancelled',
            step: 'cancelled',
            outcome: 'ok',
            at: '2026-12-06T16:00:00.000Z',
            actor: 'alice@example.com',
          },
        ],
      },
      { ...finance, closed: 'CANCELLED' },
      context,
    );
    expect(cancelled).toContain(
      'The request was cancelled by alice@example.com at <time datetime="2026-12-06T16:00:00.000Z">',
    );
  });
});

describe('a scale, as approvers and the requester read it', () => {
  const scale = {
    ...request,
    kind: 'scale',
    count: 6,
    maxCount: 6,
    billing: { mode: '0' },
    change: { kind: 'scale-up', from: 2, to: 6 },
    steps: [
      {
        id: 'quota-checked',
        step: 'quota_checked',
        outcome: 'ok',
        at: '2026-11-26T00:00:00.000Z',
        detail: { flavor: 'modelarts.vm.2u4g.dcc', count: 4, limit: 10, inUseAfter: 9 },
      },
    ],
  } as unknown as PoolRequestRecord;

  it('says what changes in the mail, with the quota of the added nodes and the price difference', () => {
    const mail = approvalRequestMail(scale, 'manager', 'bob@example.com', 'https://gate/a', approval.expiresAt, {
      price: { hourly: 1.2, currency: 'USD' },
    });
    expect(mail.subject).toBe(
      'Approval needed: scale node pool np-1 (from 2 to 6 nodes, +4, modelarts.vm.2u4g.dcc) for ml-platform',
    );
    expect(mail.text).toContain('alice@example.com asks to scale node pool np-1 from 2 to 6 nodes, +4 in pool pool.');
    expect(mail.text).toContain('Quota: 5 of 10 in use, 9 after this');
    expect(mail.text).toContain('Estimated price: +4 node(s) x 1.20 USD/h = +4.80 USD/h (list price)');
    expect(mail.text).toContain('Change: from 2 to 6 nodes, +4');
  });

  it('says it in Slack and in the outcome headline', () => {
    expect(approvalRequestMessage(scale, approval).text).toContain('scale node pool np-1 from 2 to 6 nodes, +4');
    expect(outcomeHeadline({ ...scale, status: 'ACTIVE' })).toBe(
      'Your request to scale node pool np-1 from 2 to 6 nodes, +4 is done: ModelArts shows the new count',
    );
    expect(outcomeHeadline({ ...scale, status: 'ACTIVE', change: { kind: 'update', from: 2, to: 2 } })).toBe(
      'Your request to update node pool np-1 (labels, taints or limits) is done: ModelArts accepted the change',
    );
  });
});
