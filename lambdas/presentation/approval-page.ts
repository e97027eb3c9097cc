/** The approval confirmation page (GET) and the pages that follow a decision or a refused link. */
import type { ApprovalRecord } from '../domain/approval';
import type { PoolRequestRecord } from '../domain/pool-request';
import type { StageOutcome } from '../domain/votes';
import { escapeHtml, factsTable, page } from './html';
import { requestFacts, type Price } from './request-summary';

export interface FormProof {
  readonly approver: string;
  readonly signature: string;
  /** Anti-forgery token of this page. */
  readonly formToken: string;
}

export function approvalFormPage(
  request: PoolRequestRecord,
  approval: ApprovalRecord,
  proof: FormProof,
  price?: Price,
): string {
  const votes = Object.entries(approval.votes).map(([who, v]) => `${who}: ${v.vote}`);
  const orderField = approval.needsOrderId
    ? `<p><label for="orderId">ModelArts order id (required to approve this yearly/monthly request)</label><br>
<input id="orderId" name="orderId" maxlength="64" pattern="[A-Za-z0-9_-]{1,64}" autocomplete="off"></p>`
    : '';
  return page(
    `Approve node pool ${request.nodePoolName}?`,
    `<h1>Approve node pool <code>${escapeHtml(request.nodePoolName)}</code>?</h1>
<p>${escapeHtml(request.requester)} asks for this node pool. You decide as <strong>${escapeHtml(approval.stageName)}</strong> approver
(${escapeHtml(approval.requiredApprovals)} approval(s) needed). This page expires ${escapeHtml(approval.expiresAt)}.</p>
${factsTable([...requestFacts(request, price), ['Votes so far', votes.length ? votes.join(', ') : undefined]])}
<form method="post">
<input type="hidden" name="approver" value="${escapeHtml(proof.approver)}">
<input type="hidden" name="sig" value="${escapeHtml(proof.signature)}">
<input type="hidden" name="formToken" value="${escapeHtml(proof.formToken)}">
${orderField}
<p><label for="comment">Comment (optional)</label><br>
<textarea id="comment" name="comment" maxlength="2000"></textarea></p>
<p><button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="reject">Reject</button></p>
</form>`,
  );
}

export function decisionRecordedPage(
  request: PoolRequestRecord,
  vote: 'approve' | 'reject',
  outcome: StageOutcome,
): string {
  const what = vote === 'approve' ? 'approval' : 'rejection';
  const next =
    outcome === 'pending'
      ? 'More approvals are needed before this stage is settled.'
      : outcome === 'approved'
        ? request.status === 'PROVISIONING'
          ? 'The request is approved; poolgate is creating the node pool.'
          : 'This stage is approved; the next stage has been asked.'
        : 'The request is rejected.';
  return page(
    'Decision recorded',
    `<h1>Your ${what} is recorded</h1>\n<p class="notice">${escapeHtml(next)}</p>\n${factsTable(requestFacts(request))}`,
  );
}

export function linkProblemPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p class="notice">${escapeHtml(message)}</p>`);
}
