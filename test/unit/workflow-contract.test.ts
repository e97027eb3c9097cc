/**
 * The workflow contract (contracts/workflow.ts) holds the one table of workflow errors. This file is
 * checked by `tsc --noEmit` (run by `npm test`): each `@ts-expect-error` line below must fail to
 * compile, or the type check fails ("unused @ts-expect-error"). Together they show that renaming a
 * workflow error (here NodesTimeoutError to NodesDeadlineError) breaks both the definition's
 * `ErrorEquals` and Finalize's reason map wherever the old name is still written.
 */
import {
  ERROR_EQUALS_NAMES,
  LAMBDA_TRANSIENT_ERRORS,
  WORKFLOW_ERRORS,
  type ErrorEqualsName,
  type WorkflowErrorName,
} from '../../contracts/workflow';
import type { FailureReasons } from '../../lambdas/use-cases/finalize-request';
import { buildWorkflowDefinition, type WorkflowDefinition } from '../../lib/workflow-definition';

/** The names one `ErrorEquals` of the built definition is typed to hold (any state, Retry or Catch). */
type States = WorkflowDefinition['States'];
type DefinitionErrorEquals = {
  [S in keyof States]: States[S] extends { Retry: ReadonlyArray<{ ErrorEquals: infer E }> } ? E : never;
}[keyof States];

/** The table as it would be after the rename. */
type Renamed = Exclude<WorkflowErrorName, 'NodesTimeoutError'> | 'NodesDeadlineError';

const REASONS_TODAY: FailureReasons = {
  ModelArtsRetryableError: 'MODELARTS_ERROR',
  ModelArtsError: 'MODELARTS_ERROR',
  NodePoolConflictError: 'NODE_POOL_CONFLICT',
  NodePoolNotOursError: 'NODE_POOL_NOT_OURS',
  NodePoolChangedError: 'NODE_POOL_CHANGED',
  NodesAbnormalError: 'NODES_ABNORMAL',
  NodesTimeoutError: 'NODES_TIMEOUT',
  QuotaExceededError: 'QUOTA_EXCEEDED',
  FlavorNotAllowedError: 'FLAVOR_NOT_ALLOWED',
  LeaseEndedError: 'LEASE_ENDED',
  LeaseMaxTotalError: 'LEASE_MAX_TOTAL',
};

describe('workflow contract', () => {
  it('a renamed workflow error no longer compiles in an ErrorEquals or in Finalize reason map', () => {
    const today: DefinitionErrorEquals = ['ModelArtsRetryableError', 'NodesTimeoutError'];
    // @ts-expect-error the definition's ErrorEquals take only the contract's names: the new name is unknown
    const renamedRetry: DefinitionErrorEquals = ['NodesDeadlineError'];
    // @ts-expect-error likewise in a Catch of the definition
    const renamedCatch: ErrorEqualsName[] = ['NodesDeadlineError'];

    const { NodesTimeoutError: _old, ...others } = REASONS_TODAY;
    // @ts-expect-error Finalize's map needs a reason for every name of the table, and no other name
    const renamedReasons: FailureReasons = { ...others, NodesDeadlineError: 'NODES_TIMEOUT' };
    // @ts-expect-error a table with the renamed error is not the one Finalize's map is keyed by
    const renamedTable: Record<Renamed, unknown> extends FailureReasons ? true : never = true;
    // @ts-expect-error a reason that is not a terminal reason of the request statuses is refused
    const unknownReason: FailureReasons = { ...REASONS_TODAY, NodesTimeoutError: 'NODES_LATE' };

    // The values exist only to be type-checked; the table itself is what they stand for.
    expect([today, renamedRetry, renamedCatch, renamedReasons, renamedTable, unknownReason]).toHaveLength(6);
    expect(Object.fromEntries(Object.entries(WORKFLOW_ERRORS).map(([name, spec]) => [name, spec.reason]))).toEqual(
      REASONS_TODAY,
    );
  });

  it('every ErrorEquals of the built definition names an error of the contract, and every retried one is thrown', () => {
    const fns = {
      checkRequest: 'c',
      requestApproval: 'r',
      approvalTimedOut: 't',
      createNodePool: 'n',
      applyChange: 'a',
      checkNodes: 'k',
      finalize: 'f',
    };
    const states = Object.values(buildWorkflowDefinition(fns).States) as Array<{
      Retry?: Array<{ ErrorEquals: string[] }>;
      Catch?: Array<{ ErrorEquals: string[] }>;
    }>;
    const named = states.flatMap((s) => [...(s.Retry ?? []), ...(s.Catch ?? [])]).flatMap((r) => r.ErrorEquals);
    expect(named.filter((name) => !ERROR_EQUALS_NAMES.includes(name as ErrorEqualsName))).toEqual([]);
    // Retried on the workflow's side: the Lambda service's own faults and ModelArts' retryable error only.
    const retried = new Set(states.flatMap((s) => s.Retry ?? []).flatMap((r) => r.ErrorEquals));
    expect([...retried].sort()).toEqual(
      [...LAMBDA_TRANSIENT_ERRORS, 'ModelArtsRetryableError', 'States.TaskFailed'].sort(),
    );
  });
});
