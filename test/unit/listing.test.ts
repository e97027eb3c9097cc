/**
 * Listing rules without I/O: which index partition a query reads (and who may ask), cursors that
 * cannot be forged or replayed, and when a request is final.
 */
import { parsePolicy } from '../../lambdas/config/policy';
import { isWaitingFor, type ApprovalRecord } from '../../lambdas/domain/approval';
import { BadQueryError, ForbiddenError } from '../../lambdas/domain/errors';
import { decodeCursor, encodeCursor } from '../../lambdas/domain/list-cursor';
import { parseListQuery, queryIdentity } from '../../lambdas/domain/list-query';
import { isFinal } from '../../lambdas/domain/status';

const policy = parsePolicy(
  JSON.stringify({
    admins: ['root@example.com'],
    teams: [
      {
        name: 'ml-platform',
        members: [{ email: 'alice@example.com' }, { email: 'dave@example.com' }],
        stages: [{ name: 'manager', approvers: [{ email: 'bob@example.com' }] }],
        escalation: [{ email: 'ivan@example.com' }],
        quotas: {},
      },
      {
        name: 'vision',
        members: [{ email: 'erin@example.com' }],
        stages: [{ name: 'lead', approvers: [{ email: 'frank@example.com' }] }],
        quotas: {},
      },
    ],
  }),
);

const KEY = 'test-link-key';

describe('parseListQuery', () => {
  it("lists the caller's team by default, 20 at a time, with status as a filter", () => {
    expect(parseListQuery({}, 'alice@example.com', policy)).toEqual({
      scope: { kind: 'team', team: 'ml-platform' },
      limit: 20,
    });
    expect(parseListQuery({ status: 'ACTIVE', limit: '5' }, 'alice@example.com', policy)).toEqual({
      scope: { kind: 'team', team: 'ml-platform' },
      status: 'ACTIVE',
      limit: 5,
    });
  });

  it('reads the requester index for mine=true and the approver index for awaiting=me', () => {
    expect(parseListQuery({ mine: 'true', status: 'REJECTED' }, 'alice@example.com', policy).scope).toEqual({
      kind: 'requester',
      email: 'alice@example.com',
    });
    expect(parseListQuery({ awaiting: 'me' }, 'bob@example.com', policy).scope).toEqual({
      kind: 'awaiting',
      approver: 'bob@example.com',
    });
  });

  it('lets members, approvers, escalation contacts and admins list a team, and nobody else', () => {
    for (const who of ['dave@example.com', 'bob@example.com', 'ivan@example.com', 'root@example.com']) {
      expect(parseListQuery({ team: 'ml-platform' }, who, policy).scope).toEqual({ kind: 'team', team: 'ml-platform' });
    }
    expect(() => parseListQuery({ team: 'ml-platform' }, 'erin@example.com', policy)).toThrow(ForbiddenError);
    expect(() => parseListQuery({ team: 'ml-platform' }, 'frank@example.com', policy)).toThrow(ForbiddenError);
  });

  it('gives admins every team by status, and someone in no team what awaits their decision', () => {
    expect(parseListQuery({ status: 'AWAITING_APPROVAL' }, 'root@example.com', policy).scope).toEqual({
      kind: 'status',
      status: 'AWAITING_APPROVAL',
    });
    expect(parseListQuery({}, 'bob@example.com', policy).scope).toEqual({
      kind: 'awaiting',
      approver: 'bob@example.com',
    });
    expect(parseListQuery({}, 'root@example.com', policy).scope).toEqual({
      kind: 'awaiting',
      approver: 'root@example.com',
    });
    expect(() => parseListQuery({ status: 'ACTIVE' }, 'bob@example.com', policy)).toThrow(
      /in no team: a status filter needs mine=true or team=<name>/,
    );
  });

  it.each([
    [{ status: 'active' }, 'status: must be one of'],
    [{ limit: '0' }, 'limit: must be an integer from 1 to 100'],
    [{ limit: '101' }, 'limit: must be an integer'],
    [{ limit: '1e1' }, 'limit: must be an integer'],
    [{ mine: 'yes' }, 'mine: must be "true" or "false"'],
    [{ awaiting: 'bob' }, 'awaiting: must be "me"'],
    [{ awaiting: 'me', status: 'ACTIVE' }, 'awaiting=me cannot be combined'],
    [{ mine: 'true', team: 'vision' }, 'mine=true and team cannot be combined'],
    [{ stauts: 'ACTIVE' }, 'stauts: unknown query parameter'],
  ])('refuses %j with 400: %s', (params, message) => {
    let error: unknown;
    try {
      parseListQuery(params, 'alice@example.com', policy);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BadQueryError);
    expect((error as Error).message).toContain(message);
  });
});

describe('list cursors', () => {
  const query = parseListQuery({ mine: 'true' }, 'alice@example.com', policy);
  const identity = queryIdentity('alice@example.com', query);
  const position = {
    pk: 'REQUEST#r-1',
    sk: 'META',
    gsiRequester: 'alice@example.com',
    createdAt: '2026-11-26T00:00:00.000Z',
  };

  it('round-trips the index position for the same viewer and query', () => {
    expect(decodeCursor(encodeCursor(position, identity, KEY), identity, KEY)).toEqual(position);
  });

  it('refuses a changed position, another query, another viewer or another key', () => {
    const cursor = encodeCursor(position, identity, KEY);
    const [, mac] = cursor.split('.');
    const forged = `${Buffer.from(JSON.stringify({ ...position, gsiRequester: 'erin@example.com' })).toString('base64url')}.${mac}`;
    const teamQuery = queryIdentity('alice@example.com', parseListQuery({}, 'alice@example.com', policy));
    const asDave = queryIdentity('dave@example.com', parseListQuery({ mine: 'true' }, 'dave@example.com', policy));
    const filtered = queryIdentity(
      'alice@example.com',
      parseListQuery({ mine: 'true', status: 'ACTIVE' }, 'alice@example.com', policy),
    );
    for (const [c, id, key] of [
      [forged, identity, KEY],
      [cursor, teamQuery, KEY],
      [cursor, asDave, KEY],
      [cursor, filtered, KEY],
      [cursor, identity, 'another-key'],
      ['not-a-cursor', identity, KEY],
      [`${cursor}.x`, identity, KEY],
      ['', identity, KEY],
    ]) {
      expect(() => decodeCursor(c, id, key)).toThrow(BadQueryError);
    }
  });
});

describe('final statuses and waiting approvals', () => {
  it('treats CREATED as final only when the nodes are not tracked', () => {
    expect(isFinal('CREATED', true)).toBe(false);
    expect(isFinal('CREATED', false)).toBe(true);
    expect(isFinal('ACTIVE', true)).toBe(true);
    expect(isFinal('REJECTED', true)).toBe(true);
    expect(isFinal('AWAITING_APPROVAL', false)).toBe(false);
  });

  it('waits for an approver while the approval is open, undecided, unexpired and they have not voted', () => {
    const now = new Date('2026-11-26T12:00:00.000Z');
    const approval = {
      approvers: ['bob@example.com', 'dave@example.com'],
      votes: { 'dave@example.com': { vote: 'approve', at: '2026-11-26T11:00:00.000Z' } },
      expiresAt: '2026-11-27T00:00:00.000Z',
    } as unknown as ApprovalRecord;
    expect(isWaitingFor(approval, 'bob@example.com', now)).toBe(true);
    expect(isWaitingFor(approval, 'dave@example.com', now)).toBe(false);
    expect(isWaitingFor(approval, 'erin@example.com', now)).toBe(false);
    expect(isWaitingFor({ ...approval, decision: 'approved' }, 'bob@example.com', now)).toBe(false);
    expect(isWaitingFor({ ...approval, closed: 'CANCELLED' }, 'bob@example.com', now)).toBe(false);
    expect(isWaitingFor(approval, 'bob@example.com', new Date('2026-11-27T00:00:00.000Z'))).toBe(false);
  });
});
