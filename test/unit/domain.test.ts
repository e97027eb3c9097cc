import { parsePolicy, type Team } from '../../lambdas/config/policy';
import { approvalLink, linkSignature, verifyLinkSignature } from '../../lambdas/domain/approval-link';
import { planApprovals } from '../../lambdas/domain/approval-plan';
import { billingAnnotations, billingOf, MissingOrderIdError } from '../../lambdas/domain/billing';
import type { NodePoolRequest } from '../../lambdas/domain/nodepool-request';
import { placementAllowed, quotaFor } from '../../lambdas/domain/quota';
import { canTransition, sourcesOf } from '../../lambdas/domain/status';
import { tallyVotes } from '../../lambdas/domain/votes';

const team: Team = parsePolicy(
  JSON.stringify({
    teams: [
      {
        name: 'ml-platform',
        members: [{ email: 'alice@example.com' }, { email: 'dave@example.com' }],
        stages: [
          {
            name: 'manager',
            approvers: [{ email: 'bob@example.com' }, { email: 'dave@example.com' }],
            requiredApprovals: 1,
            remindAfter: 'PT1H',
            expireAfter: 'PT2H',
          },
          { name: 'finance', approvers: [{ email: 'carol@example.com' }], when: { billingModes: ['1'] } },
        ],
        escalation: [{ email: 'erin@example.com' }],
        quotas: { 'modelarts.vm.2u4g.dcc': 10 },
        projects: ['p1'],
      },
    ],
  }),
).teams[0];

function body(annotations: Record<string, string> = {}): NodePoolRequest {
  return {
    apiVersion: 'v2',
    kind: 'NodePool',
    metadata: { name: 'np-1', annotations },
    spec: { resources: { flavor: 'modelarts.vm.2u4g.dcc', count: 1, maxCount: 1 } },
  };
}

describe('status transitions', () => {
  it('follows the lifecycle and refuses to leave a terminal status', () => {
    expect(canTransition('SUBMITTED', 'AWAITING_APPROVAL')).toBe(true);
    expect(canTransition('AWAITING_APPROVAL', 'PROVISIONING')).toBe(true);
    expect(canTransition('PROVISIONING', 'CREATED')).toBe(true);
    expect(canTransition('REJECTED', 'PROVISIONING')).toBe(false);
    expect(canTransition('PROVISIONING', 'EXPIRED')).toBe(false);
  });

  it('lists the statuses a target may be reached from', () => {
    // SUBMITTED -> PROVISIONING: a change no policy stage applies to (a delete by default); a create always has a stage.
    expect(sourcesOf('PROVISIONING')).toEqual(['SUBMITTED', 'AWAITING_APPROVAL']);
    expect(sourcesOf('DELETED')).toEqual(['PROVISIONING']);
    expect(sourcesOf('FAILED')).toEqual(['SUBMITTED', 'AWAITING_APPROVAL', 'PROVISIONING', 'CREATED']);
  });
});

describe('approval plan', () => {
  it('asks only the stages whose condition holds', () => {
    const plan = planApprovals(team, 'alice@example.com', '0');
    expect(plan).toMatchObject({
      ok: true,
      stages: [{ name: 'manager', requiredApprovals: 1, remindAfterSeconds: 3600, expireAfterSeconds: 7200 }],
    });
    expect(planApprovals(team, 'alice@example.com', '1')).toMatchObject({
      ok: true,
      stages: [{ name: 'manager' }, { name: 'finance' }],
    });
  });

  it('never lets the requester approve their own request', () => {
    const plan = planApprovals(team, 'dave@example.com', '0');
    expect(plan.ok && plan.stages[0].approvers.map((a) => a.email)).toEqual(['bob@example.com']);
  });

  it('adds the escalation contacts when too few approvers remain, and refuses when there are none', () => {
    const plan = planApprovals(team, 'carol@example.com', '1');
    expect(plan.ok && plan.stages[1]).toMatchObject({
      name: 'finance',
      escalated: true,
      approvers: [{ email: 'erin@example.com' }],
    });
    const lonely = { ...team, escalation: [] };
    expect(planApprovals(lonely, 'carol@example.com', '1')).toEqual({
      ok: false,
      reason: 'NO_ELIGIBLE_APPROVER',
      stage: 'finance',
    });
  });
});

describe('votes', () => {
  it('decides on the first rejection and on enough approvals', () => {
    expect(tallyVotes({}, 1)).toBe('pending');
    expect(tallyVotes({ a: 'approve' }, 2)).toBe('pending');
    expect(tallyVotes({ a: 'approve', b: 'approve' }, 2)).toBe('approved');
    expect(tallyVotes({ a: 'approve', b: 'reject' }, 1)).toBe('rejected');
  });
});

describe('quota', () => {
  it('refuses flavors the team has no quota for, and requests larger than the limit', () => {
    expect(quotaFor(team, 'modelarts.vm.gpu.t4u8', 1)).toEqual({ ok: false, reason: 'FLAVOR_NOT_ALLOWED' });
    expect(quotaFor(team, 'modelarts.vm.2u4g.dcc', 11)).toEqual({ ok: false, reason: 'QUOTA_EXCEEDED', limit: 10 });
    expect(quotaFor(team, 'modelarts.vm.2u4g.dcc', 4)).toEqual({ ok: true, limit: 10, maxInUseBefore: 6 });
  });

  it('checks the project and pool lists', () => {
    expect(placementAllowed(team, 'p1', 'any-pool')).toBe(true);
    expect(placementAllowed(team, 'p2', 'any-pool')).toBe(false);
  });
});

describe('billing annotations', () => {
  it('sends a request naming no billing mode as pay-per-use (the pool decided so before) and links the request page', () => {
    expect(billingAnnotations(body(), { consoleUrl: 'https://gate/requests/r1' })).toEqual({
      'os.modelarts/billing.mode': '0',
      'os.modelarts/service.console.url': 'https://gate/requests/r1',
    });
    expect(billingOf(body())).toEqual({ mode: '0', fromPool: true });
  });

  it('tells an explicit pay-per-use from one left to the pool', () => {
    expect(billingOf(body({ 'os.modelarts/billing.mode': '0' }))).toEqual({ mode: '0' });
  });

  it("keeps the requester's own service.console.url", () => {
    const own = body({ 'os.modelarts/service.console.url': 'https://console.example.com/paid' });
    expect(billingAnnotations(own, { consoleUrl: 'https://gate/requests/r1' })).toMatchObject({
      'os.modelarts/service.console.url': 'https://console.example.com/paid',
    });
  });

  it('never sends yearly/monthly without an order id, and fills auto-renew', () => {
    const yearly = body({
      'os.modelarts/billing.mode': '1',
      'os.modelarts/period.num': '2',
      'os.modelarts/period.type': '2',
    });
    expect(() => billingAnnotations(yearly, { consoleUrl: 'u' })).toThrow(MissingOrderIdError);
    expect(billingAnnotations(yearly, { consoleUrl: 'u', orderId: 'CS123' })).toMatchObject({
      'os.modelarts/billing.mode': '1',
      'os.modelarts/auto.renew': '0',
      'os.modelarts/order.id': 'CS123',
    });
  });
});

describe('approval links', () => {
  const parts = { approvalId: 'req-1.0', approver: 'bob@example.com' };

  it('verifies its own signature, case-insensitively on the e-mail', () => {
    const sig = linkSignature(parts, 'key');
    expect(verifyLinkSignature({ ...parts, approver: 'Bob@Example.com' }, sig, 'key')).toBe(true);
  });

  it('refuses another approver, another approval, another key or a truncated signature', () => {
    const sig = linkSignature(parts, 'key');
    expect(verifyLinkSignature({ ...parts, approver: 'mallory@example.com' }, sig, 'key')).toBe(false);
    expect(verifyLinkSignature({ ...parts, approvalId: 'req-2.0' }, sig, 'key')).toBe(false);
    expect(verifyLinkSignature(parts, sig, 'other-key')).toBe(false);
    expect(verifyLinkSignature(parts, sig.slice(1), 'key')).toBe(false);
  });

  it('puts no secret but the signature in the link', () => {
    const link = approvalLink('https://gate/', parts, 'key');
    expect(link).toMatch(/^https:\/\/gate\/approvals\/req-1\.0\?approver=bob%40example\.com&sig=[\w-]+$/);
  });
});

describe('policy file', () => {
  it('names the field and the rule of an invalid file', () => {
    expect(() =>
      parsePolicy(JSON.stringify({ teams: [{ name: 'x', members: [], stages: [], quotas: {} }] }), 'p.json'),
    ).toThrow(/p\.json is invalid:\n {2}teams\.0\.members: /);
    expect(() => parsePolicy('{', 'p.json')).toThrow('p.json: not valid JSON');
  });

  describe('auth', () => {
    const teams = [
      {
        name: 'x',
        members: [{ email: 'a@example.com' }],
        stages: [{ name: 's', approvers: [{ email: 'b@example.com' }] }],
        quotas: {},
      },
    ];
    const withAuth = (auth: Record<string, unknown>) =>
      JSON.stringify({ auth: { issuer: 'https://login.example.com/', audience: 'poolgate', ...auth }, teams });

    it('accepts ES256 and RS256 and tokens without email_verified by default', () => {
      expect(parsePolicy(withAuth({})).auth).toEqual({
        issuer: 'https://login.example.com/',
        audience: 'poolgate',
        algorithms: ['ES256', 'RS256'],
        requireVerifiedEmail: false,
      });
      expect(parsePolicy(withAuth({ algorithms: ['PS256', 'EdDSA'], requireVerifiedEmail: true })).auth).toMatchObject({
        algorithms: ['PS256', 'EdDSA'],
        requireVerifiedEmail: true,
      });
    });

    it.each([
      [
        { algorithms: ['RS256', 'HS256'] },
        'auth.algorithms.1: must be one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA (asymmetric JWS algorithms), got "HS256"',
      ],
      [{ algorithms: ['none'] }, 'auth.algorithms.0: must be one of RS256,'],
      [{ algorithms: [] }, 'auth.algorithms: must name at least one algorithm'],
      [{ algorithms: ['RS256', 'RS256'] }, 'auth.algorithms: must not name an algorithm twice'],
      [{ algorithms: 'RS256' }, 'auth.algorithms: Invalid input: expected array'],
      [{ requireVerifiedEmail: 'yes' }, 'auth.requireVerifiedEmail: Invalid input: expected boolean'],
    ])('refuses auth %j, naming the field', (auth, message) => {
      expect(() => parsePolicy(withAuth(auth), 'p.json')).toThrow(`p.json is invalid:\n  ${message}`);
    });
  });
});
