import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { approvalFormPage, decisionRecordedPage } from '../presentation/approval-page';
import { decideFromForm, showApprovalForm, type ApprovalFormDeps } from '../use-cases/approval-form';
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
 * Browsers get HTML pages, API clients the JSON error shape.
 */
export const handler = async (event: APIGatewayProxyEventV2, lambdaContext?: Context): Promise<HttpResult> => {
  startInvocationLog(lambdaContext);
  try {
    const deps: ApprovalFormDeps = {
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
      const proof = { approvalId, approver: query.get('approver') ?? '', signature: query.get('sig') ?? '' };
      const shown = await showApprovalForm(proof, deps);
      return html(
        200,
        approvalFormPage(
          shown.request,
          shown.approval,
          { ...proof, approver: shown.approver, formToken: shown.formToken },
          policy().pricing[shown.request.flavor],
        ),
      );
    }
    const decision = await decideFromForm(
      {
        approvalId,
        fields: new URLSearchParams(bodyText(event)),
        origin: header(event, 'origin'),
        fetchSite: header(event, 'sec-fetch-site'),
      },
      deps,
    );
    return html(200, decisionRecordedPage(decision.request, decision.vote, decision.outcome));
  } catch (error) {
    return errorPageOrJson(event, error, TITLES);
  }
};
