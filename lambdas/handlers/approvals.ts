import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { formToken, verifyFormToken } from '../domain/approval-link';
import { InvalidLinkError, ValidationError } from '../domain/errors';
import type { Vote } from '../domain/votes';
import { approvalFormPage, decisionRecordedPage, linkProblemPage } from '../presentation/approval-page';
import { decide, deciderFromLink, openApproval, type ApprovalDeps, type LinkProof } from '../use-cases/decide-approval';
import { approvals, linkKey, settledStageNotifier, policy, publicBaseUrl, requests, workflow } from '../wiring';
import { bodyText, errorResponse, header, html, pathParameter, toHttpError, type HttpResult } from './http';

const TITLES: Record<number, string> = {
  400: 'Check the form',
  403: 'Link not valid',
  404: 'Not found',
  409: 'Already decided',
  410: 'No longer open',
};

/**
 * GET /approvals/{approval_id} shows the confirmation page (mail scanners and link previews open
 * links: a GET never decides); POST decides, only from a page poolgate served (form token, Origin).
 * Browsers get HTML pages, API clients the JSON error shape.
 */
export const handler = async (event: APIGatewayProxyEventV2, lambdaContext?: Context): Promise<HttpResult> => {
  startInvocationLog(lambdaContext);
  const wantsHtml = (header(event, 'accept') ?? '').includes('text/html');
  try {
    const deps: ApprovalDeps = {
      requests: requests(),
      approvals: approvals(),
      workflow: workflow(),
      notifier: await settledStageNotifier(),
      linkKey: await linkKey(),
      recordMetric,
    };
    const approvalId = pathParameter(event, 'approval_id');
    if (event.requestContext.http.method === 'GET') {
      const query = new URLSearchParams(event.rawQueryString ?? '');
      const proof: LinkProof = { approvalId, approver: query.get('approver') ?? '', signature: query.get('sig') ?? '' };
      const context = await openApproval(await deciderFromLink(proof, deps), deps);
      logger.appendKeys({ requestId: context.request.requestId });
      const token = formToken({ approvalId, approver: context.approver }, deps.linkKey, new Date());
      return html(
        200,
        approvalFormPage(
          context.request,
          context.approval,
          { ...proof, approver: context.approver, formToken: token },
          policy().pricing[context.request.flavor],
        ),
      );
    }
    const form = new URLSearchParams(bodyText(event));
    const proof: LinkProof = { approvalId, approver: form.get('approver') ?? '', signature: form.get('sig') ?? '' };
    const decider = await deciderFromLink(proof, deps);
    logger.appendKeys({ requestId: decider.approval.requestId });
    assertSameOrigin(header(event, 'origin'), header(event, 'sec-fetch-site'));
    if (
      !verifyFormToken(
        { approvalId, approver: decider.approver },
        form.get('formToken') ?? '',
        deps.linkKey,
        new Date(),
      )
    ) {
      throw new InvalidLinkError('this form is stale or was not served by poolgate: open the link again');
    }
    const vote = parseVote(form.get('decision'));
    const result = await decide(
      decider,
      { vote, comment: form.get('comment')?.trim() || undefined, orderId: form.get('orderId') ?? undefined },
      deps,
    );
    return html(200, decisionRecordedPage(result.request, vote, result.outcome));
  } catch (error) {
    if (!wantsHtml) return errorResponse(error);
    const e = toHttpError(error);
    const page = html(e.statusCode, linkProblemPage(TITLES[e.statusCode] ?? 'Something went wrong', e.message));
    return { ...page, headers: { ...page.headers, ...e.headers } };
  }
};

function parseVote(value: string | null): Vote {
  if (value === 'approve' || value === 'reject') return value;
  throw new ValidationError('decision: must be "approve" or "reject"');
}

/** A browser tells where a form post comes from; one from another site is refused. */
function assertSameOrigin(origin: string | undefined, fetchSite: string | undefined): void {
  if (fetchSite === 'cross-site') throw new InvalidLinkError('cross-site form posts are refused');
  if (origin && origin !== 'null' && origin !== new URL(publicBaseUrl()).origin)
    throw new InvalidLinkError('cross-site form posts are refused');
}
