import type { Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import type { ApprovalOutcome, ApprovalTimedOutPayload } from '../../contracts/workflow';
import { approvalTimedOut } from '../use-cases/approval-timed-out';
import { approvals, clock, notifier, policy, requests } from '../wiring';

/** Workflow step ApprovalTimedOut: remind (and escalate), or let the stage expire. */
export const handler = async (event: ApprovalTimedOutPayload, context?: Context): Promise<ApprovalOutcome> => {
  startInvocationLog(context, event);
  return approvalTimedOut(event, {
    policy: policy(),
    requests: requests(),
    now: clock,
    approvals: approvals(),
    notifier: await notifier(),
  });
};
