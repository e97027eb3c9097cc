import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { logger, startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { formToken } from '../domain/approval-link';
import { AlreadyDecidedError, ApprovalClosedError, ValidationError } from '../domain/errors';
import type { PoolRequestRecord } from '../domain/pool-request';
import { requestPageLink } from '../domain/request-link';
import {
  approvalClosedPage,
  approvalFormPage,
  decisionRecordedPage,
  type PageContext,
} from '../presentation/approval-page';
import { decideFromForm, showApprovalForm, type ApprovalFormDeps } from '../use-cases/approval-form';
import { deciderFromLink } from '../use-cases/decide-approval';
import { approvals, clock, linkKey, policy, publicBaseUrl, requests, settledStageNotifier, workflow } from '../wiring';
import { bodyText, errorPageOrJson, header, html, pathParameter, type HttpResult } from './http';

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
  let deps: ApprovalFormDeps | undefined;
  let fields: URLSearchParams | undefined;
  let proof: { approvalId: string; approver: string; signature: string } | undefined;
  try {
    deps = {
      requests: requests(),
      approvals: approvals(),
      workflow: workflow(),
      notifier: await settledStageNotifier(),
      linkKey: await linkKey(),
      publicBaseUrl: publicBaseUrl(),
      recordMetric,
      now: clock,
    };
    const approvalId = pathParameter(event, 'approval_id');
    if (event.requestContext.http.method === 'GET') {
      const query = new URLSearchParams(event.rawQueryString ?? '');
      proof = { approvalId, approver: query.get('approver') ?? '', signature: query.get('sig') ?? '' };
      const shown = await showApprovalForm(proof, deps);
      return html(
        200,
        approvalFormPage(
          shown.request,
          shown.approval,
          { ...proof, approver: shown.approver, formToken: shown.formToken },
          pageContext(shown.request, deps.linkKey),
        ),
      );
    }
    fields = new URLSearchParams(bodyText(event));
    proof = { approvalId, approver: fields.get('approver') ?? '', signature: fields.get('sig') ?? '' };
    const decision = await decideFromForm(
      { approvalId, fields, origin: header(event, 'origin'), fetchSite: header(event, 'sec-fetch-site') },
      deps,
    );
    return html(
      200,
      decisionRecordedPage(
        decision.request,
        decision.approval,
        decision.vote,
        decision.outcome,
        pageContext(decision.request, deps.linkKey),
      ),
    );
  } catch (error) {
    const wantsHtml = (header(event, 'accept') ?? '').includes('text/html');
    const page = wantsHtml && deps && proof ? await contextPage(error, proof, deps, fields) : undefined;
    return page ?? errorPageOrJson(event, error, TITLES);
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
  proof: { approvalId: string; approver: string; signature: string },
  deps: ApprovalFormDeps,
  fields: URLSearchParams | undefined,
): Promise<HttpResult | undefined> {
  const typed = error instanceof ValidationError && fields !== undefined;
  if (!typed && !(error instanceof AlreadyDecidedError) && !(error instanceof ApprovalClosedError)) return undefined;
  try {
    const decider = await deciderFromLink(proof, deps);
    const approval = (await deps.approvals.get(decider.approval.approvalId)) ?? decider.approval;
    const request = await deps.requests.get(approval.requestId);
    if (!request) return undefined;
    const context = pageContext(request, deps.linkKey);
    const message = (error as Error).message;
    if (typed) {
      const token = formToken(
        { approvalId: approval.approvalId, approver: decider.approver },
        deps.linkKey,
        deps.now(),
      );
      return html(
        400,
        approvalFormPage(
          request,
          approval,
          { approver: decider.approver, signature: proof.signature, formToken: token },
          context,
          { error: message, comment: fields.get('comment') ?? undefined, orderId: fields.get('orderId') ?? undefined },
        ),
      );
    }
    const status = error instanceof AlreadyDecidedError ? 409 : 410;
    return html(status, approvalClosedPage(TITLES[status], message, request, approval, context));
  } catch (lookup) {
    logger.warn('could not load the context of a refused approval page', { error: (lookup as Error).message });
    return undefined;
  }
}
