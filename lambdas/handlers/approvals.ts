import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ValidationError } from '../domain/errors';
import type { Vote } from '../domain/votes';
import { approvalFormPage, decisionRecordedPage, linkProblemPage } from '../presentation/approval-page';
import { decideApproval, openApprovalLink, type ApprovalDeps, type LinkProof } from '../use-cases/decide-approval';
import { approvals, linkKey, requests, workflow } from '../wiring';
import { bodyText, errorResponse, header, html, pathParameter, toHttpError, type HttpResult } from './http';

const TITLES: Record<number, string> = { 403: 'Link not valid', 404: 'Not found', 409: 'Already decided', 410: 'No longer open' };

/**
 * GET /approvals/{approval_id} shows the confirmation page (mail scanners open links: a GET never
 * decides); POST decides. Browsers get HTML pages, API clients the JSON error shape.
 */
export const handler = async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
  const wantsHtml = (header(event, 'accept') ?? '').includes('text/html');
  try {
    const deps: ApprovalDeps = { requests: requests(), approvals: approvals(), workflow: workflow(), linkKey: await linkKey() };
    const approvalId = pathParameter(event, 'approval_id');
    if (event.requestContext.http.method === 'GET') {
      const query = new URLSearchParams(event.rawQueryString ?? '');
      const proof = { approvalId, approver: query.get('approver') ?? '', signature: query.get('sig') ?? '' };
      const { request, approval } = await openApprovalLink(proof, deps);
      return html(200, approvalFormPage(request, approval, proof));
    }
    const form = new URLSearchParams(bodyText(event));
    const proof: LinkProof = { approvalId, approver: form.get('approver') ?? '', signature: form.get('sig') ?? '' };
    const vote = parseVote(form.get('decision'));
    const result = await decideApproval(proof, vote, form.get('comment')?.trim() || undefined, deps);
    return html(200, decisionRecordedPage(result.request, vote, result.outcome));
  } catch (error) {
    if (!wantsHtml) return errorResponse(error);
    const e = toHttpError(error);
    return { ...html(e.statusCode, linkProblemPage(TITLES[e.statusCode] ?? 'Something went wrong', e.message)), headers: { ...html(e.statusCode, '').headers, ...e.headers } };
  }
};

function parseVote(value: string | null): Vote {
  if (value === 'approve' || value === 'reject') return value;
  throw new ValidationError('decision: must be "approve" or "reject"');
}
