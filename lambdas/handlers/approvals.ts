import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { formToken, verifyFormToken } from '../domain/approval-link';
import { AlreadyDecidedError, ApprovalClosedError, InvalidLinkError, ValidationError } from '../domain/errors';
import type { PoolRequestRecord } from '../domain/pool-request';
import { requestPageLink } from '../domain/request-link';
import type { Vote } from '../domain/votes';
import {
  approvalClosedPage,
  approvalFormPage,
  decisionRecordedPage,
  linkProblemPage,
  type PageContext,
} from '../presentation/approval-page';
import {
  decide,
  deciderFromLink,
  openApproval,
  type ApprovalDeps,
  type Decider,
  type LinkProof,
} from '../use-cases/decide-approval';
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
 * Browsers get HTML pages, API clients the JSON error shape. A refused decision (a missing order id)
 * shows the form again with what was typed; a link that can no longer decide says who decided what.
 */
export const handler = async (event: APIGatewayProxyEventV2, lambdaContext?: Context): Promise<HttpResult> => {
  startInvocationLog(lambdaContext);
  const wantsHtml = (header(event, 'accept') ?? '').includes('text/html');
  let deps: ApprovalDeps | undefined;
  let decider: Decider | undefined;
  let form: URLSearchParams | undefined;
  try {
    deps = {
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
      decider = await deciderFromLink(proof, deps);
      const context = await openApproval(decider, deps);
      logger.appendKeys({ requestId: context.request.requestId });
      const token = formToken({ approvalId, approver: context.approver }, deps.linkKey, new Date());
      return html(
        200,
        approvalFormPage(
          context.request,
          context.approval,
          { ...proof, approver: context.approver, formToken: token },
          pageContext(context.request, deps.linkKey),
        ),
      );
    }
    form = new URLSearchParams(bodyText(event));
    const proof: LinkProof = { approvalId, approver: form.get('approver') ?? '', signature: form.get('sig') ?? '' };
    decider = await deciderFromLink(proof, deps);
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
    return html(
      200,
      decisionRecordedPage(
        result.request,
        result.approval,
        vote,
        result.outcome,
        pageContext(result.request, deps.linkKey),
      ),
    );
  } catch (error) {
    if (!wantsHtml) return errorResponse(error);
    const e = toHttpError(error);
    const body =
      (deps && decider && (await contextPage(error, e.message, decider, deps, form))) ??
      linkProblemPage(TITLES[e.statusCode] ?? 'Something went wrong', e.message);
    const page = html(e.statusCode, body);
    return { ...page, headers: { ...page.headers, ...e.headers } };
  }
};

function pageContext(request: PoolRequestRecord, key: string): PageContext {
  const p = policy();
  return {
    timeZone: p.displayTimeZone,
    price: p.pricing[request.flavor],
    requestPage: requestPageLink(publicBaseUrl(), request.requestId, key),
  };
}

/**
 * The page for a refusal from a valid link, with what the approver needs: the form again with what
 * they typed (a decision the form's rules refused), or who decided what and when (already decided,
 * expired, cancelled). Undefined: the plain message page.
 */
async function contextPage(
  error: unknown,
  message: string,
  decider: Decider,
  deps: ApprovalDeps,
  form: URLSearchParams | undefined,
): Promise<string | undefined> {
  try {
    const approval = (await deps.approvals.get(decider.approval.approvalId)) ?? decider.approval;
    const request = await deps.requests.get(approval.requestId);
    if (!request) return undefined;
    const context = pageContext(request, deps.linkKey);
    if (error instanceof ValidationError && form) {
      const token = formToken(
        { approvalId: approval.approvalId, approver: decider.approver },
        deps.linkKey,
        new Date(),
      );
      return approvalFormPage(
        request,
        approval,
        { approver: decider.approver, signature: form.get('sig') ?? '', formToken: token },
        context,
        { error: message, comment: form.get('comment') ?? undefined, orderId: form.get('orderId') ?? undefined },
      );
    }
    if (error instanceof AlreadyDecidedError || error instanceof ApprovalClosedError)
      return approvalClosedPage(
        TITLES[error instanceof AlreadyDecidedError ? 409 : 410],
        message,
        request,
        approval,
        context,
      );
    return undefined;
  } catch (lookup) {
    logger.warn('could not load the context of a refused approval page', { error: (lookup as Error).message });
    return undefined;
  }
}

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
