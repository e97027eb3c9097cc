/**
 * The Lambda functions of poolgate: one entry file each under lambdas/handlers/.
 * Shared by the CDK stack (lib/), which bundles them, and by the local stack (local/),
 * which imports the same modules in-process. lambdas/ itself never needs this list.
 */
export const HTTP_FUNCTIONS = [
  'submit',
  'getRequest',
  'listRequests',
  'requestPage',
  'cancelRequest',
  'retryRequest',
  'extendLease',
  'deleteNodePool',
  'patchNodePool',
  'readNodePools',
  'nodePoolInventory',
  'approvals',
  'slackInteractions',
  'openapi',
  'health',
] as const;
export const WORKFLOW_FUNCTIONS = [
  'checkRequest',
  'requestApproval',
  'approvalTimedOut',
  'createNodePool',
  'applyChange',
  'checkNodes',
  'finalize',
] as const;

/** Run on a schedule (EventBridge on AWS, a timer on the local stack). */
export const SCHEDULED_FUNCTIONS = ['reconcileQuota', 'sweepSubmitted', 'sweepLeases'] as const;

/** How often the sweep of requests left SUBMITTED runs (the reconciliation's rate is the policy's). */
export const SWEEP_SUBMITTED_EVERY_SECONDS = 60;
/**
 * How often the lease sweep runs on AWS: EventBridge's floor, one minute, is the lease's precision
 * (the local stack: POOLGATE_SWEEP_SECONDS, default 60).
 */
export const SWEEP_LEASES_EVERY_SECONDS = 60;

export type HttpFunctionId = (typeof HTTP_FUNCTIONS)[number];
export type WorkflowFunctionId = (typeof WORKFLOW_FUNCTIONS)[number];
export type ScheduledFunctionId = (typeof SCHEDULED_FUNCTIONS)[number];
export type FunctionId = HttpFunctionId | WorkflowFunctionId | ScheduledFunctionId;

/** Entry file of each function, relative to the repository root. */
export const FUNCTION_ENTRIES: Record<FunctionId, string> = {
  submit: 'lambdas/handlers/submit.ts',
  getRequest: 'lambdas/handlers/get-request.ts',
  listRequests: 'lambdas/handlers/list-requests.ts',
  requestPage: 'lambdas/handlers/request-page.ts',
  cancelRequest: 'lambdas/handlers/cancel-request.ts',
  retryRequest: 'lambdas/handlers/retry-request.ts',
  extendLease: 'lambdas/handlers/extend-lease.ts',
  deleteNodePool: 'lambdas/handlers/delete-node-pool.ts',
  patchNodePool: 'lambdas/handlers/patch-node-pool.ts',
  readNodePools: 'lambdas/handlers/read-nodepools.ts',
  nodePoolInventory: 'lambdas/handlers/nodepool-inventory.ts',
  slackInteractions: 'lambdas/handlers/slack-interactions.ts',
  approvals: 'lambdas/handlers/approvals.ts',
  openapi: 'lambdas/handlers/openapi.ts',
  health: 'lambdas/handlers/health.ts',
  checkRequest: 'lambdas/handlers/check-request.ts',
  requestApproval: 'lambdas/handlers/request-approval.ts',
  approvalTimedOut: 'lambdas/handlers/approval-timed-out.ts',
  createNodePool: 'lambdas/handlers/create-node-pool.ts',
  applyChange: 'lambdas/handlers/apply-change.ts',
  checkNodes: 'lambdas/handlers/check-nodes.ts',
  finalize: 'lambdas/handlers/finalize.ts',
  reconcileQuota: 'lambdas/handlers/reconcile-quota.ts',
  sweepSubmitted: 'lambdas/handlers/sweep-submitted.ts',
  sweepLeases: 'lambdas/handlers/sweep-leases.ts',
};
