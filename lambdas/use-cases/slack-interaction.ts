/**
 * A click on an Approve/Reject button in Slack. The request signature is verified before anything
 * is read; then the clicking Slack user must be an approver of the stage (never the requester).
 * Anything that cannot be decided is explained to the clicker alone (an ephemeral message).
 */
import { approverBySlackId } from '../domain/approval';
import { PoolGateError, UnauthenticatedError, ValidationError } from '../domain/errors';
import { verifySlackRequest } from '../domain/slack-signature';
import { SLACK_ACTIONS } from '../presentation/slack-messages';
import { decide, type ApprovalDeps } from './decide-approval';
import type { ChatPoster } from './ports';

export interface SlackRequest {
  readonly rawBody: string;
  readonly signature?: string;
  readonly timestamp?: string;
}

interface BlockActionsPayload {
  type?: string;
  user?: { id?: string };
  channel?: { id?: string };
  actions?: Array<{ action_id?: string; value?: string }>;
}

export type SlackInteractionResult =
  | { readonly kind: 'decided'; readonly outcome: string }
  | { readonly kind: 'explained'; readonly message: string }
  | { readonly kind: 'ignored' };

export async function handleSlackInteraction(
  request: SlackRequest,
  deps: ApprovalDeps & { signingSecret: string; slack?: Pick<ChatPoster, 'ephemeral'> },
): Promise<SlackInteractionResult> {
  const verified = verifySlackRequest(deps.signingSecret, request, request.rawBody, deps.now());
  if (!verified.ok) throw new UnauthenticatedError(verified.reason);

  const payload = parsePayload(request.rawBody);
  const action = payload.actions?.[0];
  const vote =
    action?.action_id === SLACK_ACTIONS.approve
      ? 'approve'
      : action?.action_id === SLACK_ACTIONS.reject
        ? 'reject'
        : undefined;
  if (payload.type !== 'block_actions' || !vote || !action?.value || !payload.user?.id) return { kind: 'ignored' };

  const explain = async (message: string): Promise<SlackInteractionResult> => {
    if (payload.channel?.id) await deps.slack?.ephemeral(payload.channel.id, payload.user!.id!, message);
    return { kind: 'explained', message };
  };
  const approval = await deps.approvals.get(action.value);
  if (!approval) return explain('This approval does not exist any more.');
  const approver = approverBySlackId(approval, payload.user.id);
  if (!approver) return explain('You are not an approver of this stage, so your click decided nothing.');
  if (approval.needsOrderId && vote === 'approve')
    return explain('This yearly/monthly request needs a ModelArts order id: approve it from the link in your e-mail.');
  try {
    const result = await decide({ approval, approver, via: 'slack' }, { vote }, deps);
    return { kind: 'decided', outcome: result.outcome };
  } catch (error) {
    if (error instanceof PoolGateError) return explain(error.message);
    throw error;
  }
}

function parsePayload(rawBody: string): BlockActionsPayload {
  const payload = new URLSearchParams(rawBody).get('payload');
  if (!payload) throw new ValidationError('payload: missing');
  try {
    return JSON.parse(payload) as BlockActionsPayload;
  } catch {
    throw new ValidationError('payload: not JSON');
  }
}
