/**
 * Telling people: approvers are asked (e-mail with a personal link, and Slack with buttons), their
 * Slack messages are updated once a stage is settled, and the requester hears the outcome. A failed
 * Slack call never blocks the e-mail, nor the decision itself.
 */
import { logger } from '../adapters/logger';
import { teamNamed, teamOf } from '../domain/teams';
import type { Policy } from '../config/policy';
import { approvalLink } from '../domain/approval-link';
import { requestPageLink } from '../domain/request-link';
import type { ApprovalRecord, SlackMessageRef } from '../domain/approval';
import type { PoolRequestRecord } from '../domain/pool-request';
import { approvalRequestMail } from '../presentation/approval-mail';
import type { DriftObservation } from '../domain/drift';
import type { NodePoolRecord } from '../domain/nodepool-record';
import { deletedByOtherMail, outcomeHeadline, outcomeMail, unapprovedChangeMail } from '../presentation/outcome-mail';
import { approvalClosedMessage, approvalRequestMessage, type SlackContext } from '../presentation/slack-messages';
import type { ChatPoster, MailSender } from './ports';
import { extendLink } from '../domain/lease-link';
import { leaseNoticeMail, leaseNoticeText } from '../presentation/lease-mail';

export interface NotifierDeps {
  readonly policy: Policy;
  /** Absent in the decision handlers, which only rewrite Slack messages (`showSettled`): their bundles then carry no mail client. */
  readonly mailer?: MailSender;
  readonly slack?: Pick<ChatPoster, 'post' | 'update'>;
  readonly linkKey: string;
  readonly publicBaseUrl: string;
}

export class Notifier {
  constructor(private readonly deps: NotifierDeps) {}

  /** Asks `approvers` (all of them, or the ones a reminder adds) to decide; returns the Slack messages sent. */
  async askApprovers(
    request: PoolRequestRecord,
    approval: ApprovalRecord,
    approvers: readonly string[],
    reminder = false,
  ): Promise<SlackMessageRef[]> {
    const price = this.deps.policy.pricing[request.flavor];
    for (const approver of approvers) {
      const link = approvalLink(
        this.deps.publicBaseUrl,
        { approvalId: approval.approvalId, approver },
        this.deps.linkKey,
      );
      const mail = approvalRequestMail(request, approval.stageName, approver, link, approval.expiresAt, {
        price,
        timeZone: this.deps.policy.displayTimeZone,
        requestPage: requestPageLink(this.deps.publicBaseUrl, request.requestId, this.deps.linkKey),
      });
      await this.mailer().send(reminder ? { ...mail, subject: `Reminder: ${mail.subject}` } : mail);
    }
    const slack = this.deps.slack;
    if (!slack) return [];
    const channel = teamNamed(this.deps.policy, request.team)?.slackChannel;
    const targets = channel
      ? [channel]
      : approvers.flatMap((a) => (approval.approverSlackIds[a] ? [approval.approverSlackIds[a]] : []));
    const sent: SlackMessageRef[] = [];
    for (const target of targets) {
      try {
        sent.push(
          await slack.post(target, approvalRequestMessage(request, approval, this.slackContext(request), reminder)),
        );
      } catch (error) {
        logger.warn('slack message not sent', { requestId: request.requestId, error: (error as Error).message });
      }
    }
    return sent;
  }

  /** Rewrites every Slack message of a settled stage: who decided what, no buttons. */
  async showSettled(request: PoolRequestRecord, approval: ApprovalRecord, outcome: string): Promise<void> {
    const slack = this.deps.slack;
    if (!slack) return;
    const message = approvalClosedMessage(request, approval, outcome, this.slackContext(request));
    for (const ref of approval.slackMessages ?? []) {
      try {
        await slack.update(ref, message);
      } catch (error) {
        logger.warn('slack message not updated', { requestId: request.requestId, error: (error as Error).message });
      }
    }
  }

  /** E-mails the requester (and sends a Slack DM when their Slack id is known) how the request ended. */
  async tellRequester(request: PoolRequestRecord): Promise<void> {
    // The signed, read-only request page: a mail reader has no bearer token for the API.
    const link = requestPageLink(this.deps.publicBaseUrl, request.requestId, this.deps.linkKey);
    await this.mailer().send(outcomeMail(request, link));
    const slackId = teamOf(this.deps.policy, request.requester)?.members.find(
      (m) => m.email === request.requester,
    )?.slackUserId;
    if (!slackId || !this.deps.slack) return;
    const text = `${outcomeHeadline(request)}${request.reason ? ` (${request.reason})` : ''}. ${link}`;
    try {
      await this.deps.slack.post(slackId, { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
    } catch (error) {
      logger.warn('slack message not sent', { requestId: request.requestId, error: (error as Error).message });
    }
  }

  /** E-mails the creator of a node pool that someone else deleted it (the delete request's page linked). */
  async tellCreator(request: PoolRequestRecord, creator: string): Promise<void> {
    const link = requestPageLink(this.deps.publicBaseUrl, request.requestId, this.deps.linkKey);
    await this.mailer().send(deletedByOtherMail(request, creator, link));
  }

  /** E-mails `recipients` (the team's approvers and the admins) that a node pool was changed outside poolgate. */
  async tellUnapprovedChange(
    request: PoolRequestRecord,
    record: NodePoolRecord,
    observation: DriftObservation,
    recipients: readonly string[],
  ): Promise<void> {
    if (recipients.length === 0) return;
    const link = requestPageLink(this.deps.publicBaseUrl, request.requestId, this.deps.linkKey);
    await this.mailer().send(unapprovedChangeMail(request, record, observation, recipients, link));
  }

  /**
   * Tells the lease holder (e-mail with their personal extension link, Slack DM) and the team's channel,
   * if it has one, that the lease ends soon or has ended, and when the node pool is deleted.
   */
  async tellLeaseHolder(
    record: NodePoolRecord,
    notice: {
      kind: 'remind' | 'ended';
      before?: string;
      endsAt: string;
      deleteAt: string;
      /** When it is sent: a reminder says the time left from then. */
      now?: string;
      estimate?: string;
    },
  ): Promise<void> {
    const holder = record.leaseHolder ?? record.creator;
    const base = { record, ...notice, timeZone: this.deps.policy.displayTimeZone };
    if (holder) {
      const link = extendLink(this.deps.publicBaseUrl, record.creatingRequestId ?? '', holder, this.deps.linkKey);
      await this.mailer().send(leaseNoticeMail(holder, { ...base, extendLink: link }));
      const slackId = teamOf(this.deps.policy, holder)?.members.find((m) => m.email === holder)?.slackUserId;
      if (slackId) await this.postQuietly(slackId, leaseNoticeText({ ...base, extendLink: link }), record);
    }
    const channel = record.team ? teamNamed(this.deps.policy, record.team)?.slackChannel : undefined;
    if (channel) await this.postQuietly(channel, leaseNoticeText(base), record);
  }

  private async postQuietly(target: string, text: string, record: NodePoolRecord): Promise<void> {
    if (!this.deps.slack) return;
    try {
      await this.deps.slack.post(target, { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });
    } catch (error) {
      logger.warn('slack message not sent', {
        nodePool: record.nodePoolName,
        error: (error as Error).message,
      });
    }
  }

  private slackContext(request: PoolRequestRecord): SlackContext {
    return {
      price: this.deps.policy.pricing[request.flavor],
      timeZone: this.deps.policy.displayTimeZone,
      requestPage: requestPageLink(this.deps.publicBaseUrl, request.requestId, this.deps.linkKey),
    };
  }

  private mailer(): MailSender {
    if (!this.deps.mailer)
      throw new Error('this notifier was built without a mailer (lambdas/wiring.ts: settledStageNotifier)');
    return this.deps.mailer;
  }
}
