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
import { approvalFormPage } from '../../lambdas/presentation/approval-page';

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
  const html = approvalFormPage(request, approval, {
    approver: 'bob@example.com',
    signature: 'sig"><x',
    formToken: 't',
  });

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
