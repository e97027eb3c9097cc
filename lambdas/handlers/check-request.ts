import type { ApprovalOutcome } from '../adapters/workflow';
import { checkRequest } from '../use-cases/check-request';
import { modelArts, policy, quotas, requests } from '../wiring';

/** Workflow step CheckRequest: approvers exist, ModelArts has the capacity, the team's quota has room (reserved). */
export const handler = async (event: { requestId: string }): Promise<ApprovalOutcome> =>
  checkRequest(event.requestId, { policy: policy(), requests: requests(), quotas: quotas(), modelArts: modelArts() });
