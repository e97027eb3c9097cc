/**
 * The races around a reminder replacing the task token, on real DynamoDB (dynalite): a vote that
 * lands while the token is replaced is delivered by the next RequestApproval run, never lost.
 */
import { ApprovalRepository } from '../../lambdas/adapters/dynamodb/approval-repository';
import { RequestRepository } from '../../lambdas/adapters/dynamodb/request-repository';
import type { ApprovalOutcome } from '../../contracts/workflow';
import type { TaskAnswer } from '../../lambdas/adapters/workflow';
import { requestRecord } from '../support/fixtures';
import { decide } from '../../lambdas/use-cases/decide-approval';
import { requestApproval } from '../../lambdas/use-cases/request-approval';
import { useTestTable } from '../support/dynamodb';

/** The clock the use cases read (the wiring hands them the same). */
const now = (): Date => new Date();

const table = useTestTable();

const stage = {
  name: 'manager',
  approvers: [{ email: 'bob@example.com' }],
  requiredApprovals: 1,
  remindAfterSeconds: 60,
  expireAfterSeconds: 600,
  escalated: false,
  collectsOrderId: false,
};

const request = (requestId: string) => requestRecord(requestId, [stage]);

/** Plays Step Functions: tokens listed in `live` are waiting; any other token is gone. */
function fakeWorkflow(live: Set<string>) {
  const answered: Array<{ token: string; outcome: ApprovalOutcome }> = [];
  return {
    answered,
    answer: async (token: string, outcome: ApprovalOutcome): Promise<TaskAnswer> => {
      if (!live.has(token)) return 'gone';
      live.delete(token);
      answered.push({ token, outcome });
      return 'delivered';
    },
  };
}

const silentNotifier = { askApprovers: async () => [], showSettled: async () => undefined };

it('delivers a vote cast while a reminder replaces the task token', async () => {
  const requests = new RequestRepository(table.db, table.tableName);
  const approvals = new ApprovalRepository(table.db, table.tableName);
  await requests.create(request('r-race'));
  const live = new Set(['token-1']);
  const workflow = fakeWorkflow(live);
  await requestApproval(
    { requestId: 'r-race', stageIndex: 0, taskToken: 'token-1' },
    { requests, approvals, notifier: silentNotifier, workflow, now },
  );

  // The reminder's timeout fires: token-1 stops waiting before the vote's SendTaskSuccess.
  live.delete('token-1');
  const approval = await approvals.get('r-race.0');
  const result = await decide(
    { approval: approval!, approver: 'bob@example.com', via: 'link' },
    { vote: 'approve' },
    {
      requests,
      approvals,
      workflow,
      notifier: silentNotifier,
      linkKey: 'k',
      now,
    },
  );
  expect(result.outcome).toBe('approved');
  expect(workflow.answered).toEqual([]);

  // RequestApproval runs again with a new token, finds the decision and answers it itself.
  live.add('token-2');
  await requestApproval(
    { requestId: 'r-race', stageIndex: 0, taskToken: 'token-2' },
    { requests, approvals, notifier: silentNotifier, workflow, now },
  );
  expect(workflow.answered).toEqual([
    { token: 'token-2', outcome: { status: 'approved', stageIndex: 0, waitSeconds: 0 } },
  ]);
  expect((await requests.get('r-race'))?.status).toBe('PROVISIONING');
});

it('answers the new token when the vote reads the old one after the replacement', async () => {
  const requests = new RequestRepository(table.db, table.tableName);
  const approvals = new ApprovalRepository(table.db, table.tableName);
  await requests.create(request('r-race-2'));
  const live = new Set(['token-1']);
  const workflow = fakeWorkflow(live);
  await requestApproval(
    { requestId: 'r-race-2', stageIndex: 0, taskToken: 'token-1' },
    { requests, approvals, notifier: silentNotifier, workflow, now },
  );
  const stale = await approvals.get('r-race-2.0');

  // The reminder has already stored token-2 when the vote (holding token-1) is delivered.
  live.delete('token-1');
  live.add('token-2');
  await requestApproval(
    { requestId: 'r-race-2', stageIndex: 0, taskToken: 'token-2' },
    { requests, approvals, notifier: silentNotifier, workflow, now },
  );
  await decide(
    { approval: stale!, approver: 'bob@example.com', via: 'link' },
    { vote: 'approve' },
    { requests, approvals, workflow, notifier: silentNotifier, linkKey: 'k', now },
  );
  expect(workflow.answered.map((a) => a.token)).toEqual(['token-2']);
});
