import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { startInvocationLog } from '../adapters/logger';
import { recordMetric } from '../adapters/metrics';
import { handleSlackInteraction } from '../use-cases/slack-interaction';
import {
  approvals,
  clock,
  linkKey,
  requests,
  settledStageNotifier,
  slack,
  slackSigningSecret,
  workflow,
} from '../wiring';
import { bodyText, errorResponse, header, type HttpResult } from './http';

/** POST /slack/interactions — Slack's signed button clicks. Answered well within Slack's 3 seconds. */
export const handler = async (event: APIGatewayProxyEventV2, context?: Context): Promise<HttpResult> => {
  startInvocationLog(context);
  try {
    await handleSlackInteraction(
      {
        rawBody: bodyText(event),
        signature: header(event, 'x-slack-signature'),
        timestamp: header(event, 'x-slack-request-timestamp'),
      },
      {
        requests: requests(),
        now: clock,
        approvals: approvals(),
        workflow: workflow(),
        notifier: await settledStageNotifier(),
        linkKey: await linkKey(),
        signingSecret: await slackSigningSecret(),
        slack: slack(),
        recordMetric,
      },
    );
    return { statusCode: 200, headers: {}, body: '' };
  } catch (error) {
    return errorResponse(error);
  }
};
