/**
 * Retrying a FAILED request: where its work picks up again. Only what was approved is retried, so
 * a retry never asks anyone again: a request that failed before its last approval is submitted anew.
 *
 *   failed in CreateNodePool (approved, no node pool recorded)  -> resume at CreateNodePool (PROVISIONING)
 *   failed while its nodes were followed (node pool created)    -> resume at CheckNodes (CREATED)
 *   a change (delete) failed after it was approved               -> resume at ApplyChange (PROVISIONING):
 *                                                                   it shows first, so a deletion ModelArts
 *                                                                   accepted already is followed, not asked again
 */
import { RESUME_POINTS, WORKFLOW_STATES, type ResumePoint } from '../../contracts/workflow';
import type { RequestStatus } from './status';
import { stepId, type Step } from './steps';

export { RESUME_POINTS, type ResumePoint };

/** Where a run that failed would resume, from what the workflow knew when it failed. */
export function resumePointAfter(approved: boolean, created: boolean): ResumePoint | undefined {
  if (created) return WORKFLOW_STATES.checkNodes;
  return approved ? WORKFLOW_STATES.createNodePool : undefined;
}

/** The resume point the request's latest failure recorded, if it may be retried. */
export function resumePointOf(steps: readonly Step[]): ResumePoint | undefined {
  const failure = steps.findLast((s) => s.step === 'failed');
  const at = failure?.detail?.resumeAt;
  return RESUME_POINTS.find((point) => point === at);
}

/** The status a retried request takes: the one it had when it reached its resume point. */
export function statusOnResume(point: ResumePoint): Extract<RequestStatus, 'PROVISIONING' | 'CREATED'> {
  return point === WORKFLOW_STATES.checkNodes ? 'CREATED' : 'PROVISIONING';
}

/** The request's latest retry: its attempt, where its run resumes and when it was asked for. */
export interface LatestRetry {
  readonly attempt: number;
  readonly resumeAt: ResumePoint;
  readonly at: string;
  /** The node poll interval its run was started with (absent: recorded before it was kept). */
  readonly pollIntervalSeconds?: number;
}

export function latestRetryOf(request: {
  readonly retries?: number;
  readonly steps: readonly Step[];
}): LatestRetry | undefined {
  const attempt = request.retries ?? 0;
  if (!attempt) return undefined;
  const step = request.steps.find((s) => s.id === stepId.retried(attempt));
  const resumeAt = RESUME_POINTS.find((point) => point === step?.detail?.resumeAt);
  if (!step || !resumeAt) return undefined;
  const poll = step.detail?.pollIntervalSeconds;
  return { attempt, resumeAt, at: step.at, ...(typeof poll === 'number' ? { pollIntervalSeconds: poll } : {}) };
}
