/**
 * The approval page's form, behind the personal link (GET /approvals/{id} shows it, POST decides):
 *  - showing: the link identifies the approver, the approval must still be open, and the page gets a
 *    form token (an anti-forgery token bound to the approval and the approver, for a while);
 *  - deciding: the link again, then the post must come from poolgate's own page (same origin, a form
 *    token poolgate issued), then the vote is one conditional write (decide-approval.ts).
 */
import { logger } from '../adapters/logger';
import { formToken, verifyFormToken } from '../domain/approval-link';
import { InvalidLinkError, ValidationError } from '../domain/errors';
import type { Vote } from '../domain/votes';
import {
  decide,
  deciderFromLink,
  openApproval,
  type ApprovalContext,
  type ApprovalDeps,
  type DecisionResult,
  type LinkProof,
} from './decide-approval';

export interface ApprovalFormDeps extends ApprovalDeps {
  /** poolgate's public base URL: a form post from another origin is refused. */
  readonly publicBaseUrl: string;
}

/** What the confirmation page shows, and the form token it carries. */
export interface ShownForm extends ApprovalContext {
  readonly formToken: string;
}

/** The form's fields as posted (`application/x-www-form-urlencoded`), and where the browser says it comes from. */
export interface FormPost {
  readonly approvalId: string;
  readonly fields: { get(name: string): string | null };
  /** The `Origin` header. */
  readonly origin?: string;
  /** The `Sec-Fetch-Site` header. */
  readonly fetchSite?: string;
}

export interface FormDecision extends DecisionResult {
  readonly vote: Vote;
}

/** The confirmation page of a personal link: nothing is decided by showing it. */
export async function showApprovalForm(proof: LinkProof, deps: ApprovalFormDeps): Promise<ShownForm> {
  const context = await openApproval(await deciderFromLink(proof, deps), deps);
  logger.appendKeys({ requestId: context.request.requestId });
  const token = formToken({ approvalId: proof.approvalId, approver: context.approver }, deps.linkKey, deps.now());
  return { ...context, formToken: token };
}

/** A decision posted from the confirmation page. */
export async function decideFromForm(post: FormPost, deps: ApprovalFormDeps): Promise<FormDecision> {
  const { approvalId, fields } = post;
  const proof: LinkProof = { approvalId, approver: fields.get('approver') ?? '', signature: fields.get('sig') ?? '' };
  const decider = await deciderFromLink(proof, deps);
  logger.appendKeys({ requestId: decider.approval.requestId });
  assertSameOrigin(post, deps.publicBaseUrl);
  if (
    !verifyFormToken(
      { approvalId, approver: decider.approver },
      fields.get('formToken') ?? '',
      deps.linkKey,
      deps.now(),
    )
  ) {
    throw new InvalidLinkError('this form is stale or was not served by poolgate: open the link again');
  }
  const vote = parseVote(fields.get('decision'));
  const result = await decide(
    decider,
    { vote, comment: fields.get('comment')?.trim() || undefined, orderId: fields.get('orderId') ?? undefined },
    deps,
  );
  return { ...result, vote };
}

function parseVote(value: string | null): Vote {
  if (value === 'approve' || value === 'reject') return value;
  throw new ValidationError('decision: must be "approve" or "reject"');
}

/** A browser tells where a form post comes from; one from another site is refused. */
function assertSameOrigin(post: FormPost, publicBaseUrl: string): void {
  if (post.fetchSite === 'cross-site') throw new InvalidLinkError('cross-site form posts are refused');
  if (post.origin && post.origin !== 'null' && post.origin !== new URL(publicBaseUrl).origin)
    throw new InvalidLinkError('cross-site form posts are refused');
}
