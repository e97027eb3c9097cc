/** GET /requests/{id} with a full id or a unique prefix of one, among the requests the viewer may see. */
import type { Policy } from '../../lambdas/config/policy';
import { AmbiguousIdError, NotFoundError } from '../../lambdas/domain/errors';
import type { PoolRequestRecord } from '../../lambdas/domain/pool-request';
import { getRequest } from '../../lambdas/use-cases/get-request';

const policy = {
  admins: [],
  nodeTracking: { enabled: true },
  teams: [
    {
      name: 'ml-platform',
      members: [{ email: 'alice@example.com' }],
      escalation: [],
      stages: [{ approvers: [{ email: 'bob@example.com' }] }],
    },
    { name: 'vision', members: [{ email: 'erin@example.com' }], escalation: [], stages: [] },
  ],
} as unknown as Policy;

const record = (requestId: string, team: string, requester: string, nodePoolName: string) =>
  ({
    requestId,
    team,
    requester,
    nodePoolName,
    status: 'AWAITING_APPROVAL',
    stages: team === 'ml-platform' ? [{ approvers: [{ email: 'bob@example.com' }] }] : [],
    steps: [],
    billing: { mode: '0' },
    createdAt: '2026-12-06T14:03:00.000Z',
    updatedAt: '2026-12-06T14:03:00.000Z',
  }) as unknown as PoolRequestRecord;

const all = [
  record('41dc5414-aaaa-4aaa-8aaa-000000000001', 'ml-platform', 'alice@example.com', 'np-a'),
  record('41dc5414-bbbb-4bbb-8bbb-000000000002', 'ml-platform', 'alice@example.com', 'np-b'),
  record('7e57c0de-cccc-4ccc-8ccc-000000000003', 'ml-platform', 'alice@example.com', 'np-c'),
  record('7e57c0de-dddd-4ddd-8ddd-000000000004', 'vision', 'erin@example.com', 'np-d'),
];

/** The indexes as pages of two items, so a lookup must follow every page. */
const requests = {
  get: async (id: string) => all.find((r) => r.requestId === id),
  page: async (index: string, partition: string, options: { startAt?: unknown }) => {
    const items = all.filter((r) => (index === 'byTeam' ? r.team === partition : r.requester === partition));
    const from = typeof options.startAt === 'number' ? options.startAt : 0;
    return { requests: items.slice(from, from + 2), ...(from + 2 < items.length ? { next: from + 2 } : {}) };
  },
} as never;

const deps = { policy, requests };

it('finds a request by a unique prefix of 8+ characters, for its team and its approvers', async () => {
  await expect(getRequest('7e57c0de', 'alice@example.com', deps)).resolves.toMatchObject({ nodePoolName: 'np-c' });
  await expect(getRequest('7E57C0DE-cc', 'bob@example.com', deps)).resolves.toMatchObject({ nodePoolName: 'np-c' });
  // erin (vision) sees only her own team's: the same prefix is unique for her.
  await expect(getRequest('7e57c0de', 'erin@example.com', deps)).resolves.toMatchObject({ nodePoolName: 'np-d' });
});

it('answers an ambiguous prefix with the matches, and a short or unknown one as not found', async () => {
  const ambiguous = getRequest('41dc5414', 'alice@example.com', deps);
  await expect(ambiguous).rejects.toBeInstanceOf(AmbiguousIdError);
  await expect(ambiguous).rejects.toThrow(
    '41dc5414 is the start of 2 request ids; give more of the id: 41dc5414-aaaa-4aaa-8aaa-000000000001 (np-a, AWAITING_APPROVAL), 41dc5414-bbbb-4bbb-8bbb-000000000002 (np-b, AWAITING_APPROVAL)',
  );
  await expect(getRequest('41dc541', 'alice@example.com', deps)).rejects.toThrow(/at least 8 characters/);
  await expect(getRequest('41dc5414', 'mallory@example.com', deps)).rejects.toBeInstanceOf(NotFoundError);
  await expect(getRequest('7e57c0de-dddd-4ddd-8ddd-000000000004', 'alice@example.com', deps)).rejects.toBeInstanceOf(
    NotFoundError,
  );
});
