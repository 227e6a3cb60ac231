import { randomBytes, randomUUID } from 'node:crypto';
import { HttpError, UniqueConstraintViolationException, type Clock, type EntityManager, type PluginContext } from '@plugchat/core';
import type { HelpdeskApi } from '@plugchat/helpdesk';
import type { OutgoingRequest, ReceivedMessageEvent, WhatsAppSessionApi } from '@plugchat/whatsapp-session';
import { DefinitionSchema, SurveySchema, type Definition, type NotSentReason, type Survey } from '../entities.js';
import { parseRating, pollOptions, ratingOfOption } from '../parse.js';
import { defaultDefinition } from './defaults.js';
import { surveyFigures, type SurveyFilter } from './figures.js';

type Resolved = import('@plugchat/core').EventMap['helpdesk.attendance.resolved'];

const OPEN = ['sent', 'awaiting_comment'] as const;
const DAY = 86_400_000;

/**
 * Surveys in the chat. Sent when an attendance is resolved; the customer's next message within
 * the window is read as the rating (helpdesk.inboundClaims: a rating never opens an attendance,
 * anything else goes on to the helpdesk and leaves the survey open). Every message the plugin
 * sends carries a key, so an event delivered again after a crash never sends it twice.
 */
export class Surveys {
  constructor(
    private readonly ctx: PluginContext,
    readonly clock: Clock,
    private readonly session: WhatsAppSessionApi,
    private readonly helpdesk: HelpdeskApi,
  ) {}

  figures(accountId: string, f: SurveyFilter) {
    return surveyFigures(this.ctx, accountId, f);
  }

  em(accountId: string): EntityManager {
    return this.ctx.db.forAccount(accountId);
  }

  async definition(accountId: string): Promise<Definition> {
    return (await this.em(accountId).findOne(DefinitionSchema, { accountId })) ?? defaultDefinition(accountId, this.clock.now());
  }

  async saveDefinition(accountId: string, def: Definition): Promise<Definition> {
    const em = this.em(accountId);
    await em.upsert(DefinitionSchema, { ...def, accountId, updatedAt: this.clock.now() });
    return (await em.findOne(DefinitionSchema, { accountId }, { refresh: true }))!;
  }

  /** A resolution: decide whether to ask, snapshot who the rating counts for, and ask. */
  async onResolved(e: Resolved): Promise<void> {
    const def = await this.definition(e.accountId);
    if (!def.enabled) return;
    const em = this.em(e.accountId);
    const resolvedAt = new Date(e.resolvedAt);
    let survey = await em.findOne(SurveySchema, { attendanceId: e.attendanceId, resolvedAt });
    if (!survey) {
      const att = await this.helpdesk.attendance(e.accountId, e.attendanceId);
      if (!att) return;
      const now = this.clock.now();
      const reason = await this.skipReason(def, e, att.labelIds, now);
      const row: Survey = {
        id: randomUUID(),
        accountId: e.accountId,
        instanceId: e.instanceId,
        attendanceId: e.attendanceId,
        attendanceNumber: e.number,
        contactId: e.contactId,
        phone: e.phone,
        // The event's assignee is the one at the moment of resolution; later changes do not move it.
        agentId: e.assigneeId ?? e.byUserId,
        queueId: e.queueId,
        labelIds: `,${att.labelIds.join(',')},`,
        kind: def.kind,
        status: reason ? 'not_sent' : 'sent',
        reason,
        resolvedAt,
        sentAt: reason ? null : now,
        expiresAt: reason ? null : new Date(now.getTime() + def.windowHours * 3_600_000),
        questionId: null,
        questionWaId: null,
        rating: null,
        ratingWaId: null,
        ratedAt: null,
        comment: null,
        commentWaId: null,
        createdAt: now,
      };
      try {
        await em.transactional(async (tx) => {
          // A newer survey replaces a contact's open one on that number: the next reply is for this one.
          await tx.nativeUpdate(SurveySchema, { instanceId: e.instanceId, phone: e.phone, status: 'sent' }, { status: 'expired' });
          await tx.nativeUpdate(SurveySchema, { instanceId: e.instanceId, phone: e.phone, status: 'awaiting_comment' }, { status: 'answered' });
          await tx.insert(SurveySchema, row);
        });
        survey = row;
      } catch (err) {
        if (!(err instanceof UniqueConstraintViolationException)) throw err;
        survey = (await em.findOne(SurveySchema, { attendanceId: e.attendanceId, resolvedAt }, { refresh: true }))!;
      }
      if (reason) return;
    }
    if (survey.status !== 'sent' || survey.questionId) return;
    try {
      const question: OutgoingRequest = def.asPoll
        ? { kind: 'poll', poll: { name: def.question, options: pollOptions(survey.kind), selectableCount: 1, secret: randomBytes(32).toString('base64') } }
        : { kind: 'text', text: def.question };
      const ids = await this.session.send(e.accountId, e.instanceId, e.phone, question, undefined, { key: `surveys:${survey.id}:question` });
      await em.nativeUpdate(SurveySchema, { id: survey.id }, { questionId: ids.zaapId, questionWaId: ids.messageId });
      await this.helpdesk.recordActivity(e.accountId, e.attendanceId, 'survey_sent', { surveyId: survey.id, kind: survey.kind });
    } catch (err) {
      const reason: NotSentReason = err instanceof HttpError && err.code === 'opted_out' ? 'opted_out' : 'send_failed';
      this.ctx.logger.warn({ err, attendance: e.attendanceId, reason }, 'survey not sent');
      await em.nativeUpdate(SurveySchema, { id: survey.id, status: 'sent' }, { status: 'not_sent', reason, sentAt: null, expiresAt: null });
    }
  }

  private async skipReason(def: Definition, e: Resolved, labelIds: string[], now: Date): Promise<NotSentReason | null> {
    if (def.queueIds.length && !(e.queueId && def.queueIds.includes(e.queueId))) return 'queue_excluded';
    if (def.skipLabelIds.some((l) => labelIds.includes(l))) return 'label_skipped';
    if (def.minDaysBetween > 0) {
      const recent = await this.em(e.accountId).findOne(SurveySchema, { phone: e.phone, sentAt: { $gte: new Date(now.getTime() - def.minDaysBetween * DAY) } }, { fields: ['id'] });
      if (recent) return 'recent_survey';
    }
    if (await this.session.isOptedOut(e.accountId, e.phone)) return 'opted_out';
    return null;
  }

  /**
   * A customer's message: the rating (or the comment after a low one) of the contact's open
   * survey on that number, within its window. True when the message was the survey's.
   */
  async claim(e: ReceivedMessageEvent): Promise<boolean> {
    const em = this.em(e.accountId);
    // Delivered again after a crash: the survey already holds this message; finish its replies.
    const done = await em.findOne(SurveySchema, { instanceId: e.instanceId, phone: e.phone, $or: [{ ratingWaId: e.messageId }, { commentWaId: e.messageId }] });
    if (done) {
      await this.reply(done);
      return true;
    }
    if (e.type === 'pollVote') return this.vote(e);
    const open = await em.findOne(SurveySchema, { instanceId: e.instanceId, phone: e.phone, status: { $in: [...OPEN] } }, { orderBy: { sentAt: 'desc' } });
    const now = this.clock.now();
    if (!open || !open.expiresAt || new Date(open.expiresAt).getTime() <= now.getTime()) return false;
    const text = e.text ?? e.caption;
    if (open.status === 'sent') {
      const rating = parseRating(text, open.kind);
      if (rating === null) return false; // a normal message: the helpdesk takes it, the survey stays open
      return this.rate(e, open, rating);
    }
    if (e.type === 'reaction') return false;
    return this.settle(e, open, { comment: (text ?? `[${e.type}]`).slice(0, 4000), commentWaId: e.messageId, status: 'answered' });
  }

  /**
   * A vote on a survey's poll is always the survey's (never a message for the helpdesk): the first
   * within the window is the rating; a changed vote within the window changes it; others are kept out.
   */
  private async vote(e: ReceivedMessageEvent): Promise<boolean> {
    const em = this.em(e.accountId);
    const survey = e.pollVote ? await em.findOne(SurveySchema, { instanceId: e.instanceId, phone: e.phone, questionWaId: e.pollVote.pollMessageId }) : null;
    if (!survey) return false;
    const rating = ratingOfOption(e.pollVote!.options[0]?.name, survey.kind);
    const now = this.clock.now();
    if (rating === null || !survey.expiresAt || new Date(survey.expiresAt).getTime() <= now.getTime()) return true;
    if (survey.status === 'sent') return this.rate(e, survey, rating);
    if (survey.rating !== rating && (survey.status === 'awaiting_comment' || survey.status === 'answered')) await em.nativeUpdate(SurveySchema, { id: survey.id }, { rating, ratedAt: now });
    return true;
  }

  /** The rating of a survey that waited for one; a low score asks the follow-up. */
  private async rate(e: ReceivedMessageEvent, open: Survey, rating: number): Promise<boolean> {
    const now = this.clock.now();
    const def = await this.definition(e.accountId);
    const followUp = !!def.followUp && def.kind === open.kind && rating <= def.followUpAtOrBelow;
    const patch: Partial<Survey> = { rating, ratingWaId: e.messageId, ratedAt: now, status: followUp ? 'awaiting_comment' : 'answered' };
    // The comment has a window of its own, from the follow-up question.
    if (followUp) patch.expiresAt = new Date(now.getTime() + def.windowHours * 3_600_000);
    return this.settle(e, open, patch);
  }

  /** Writes what a message did to a survey (only from the state it was read in), then replies. */
  private async settle(e: ReceivedMessageEvent, open: Survey, patch: Partial<Survey>): Promise<boolean> {
    const em = this.em(e.accountId);
    const changed = await em.nativeUpdate(SurveySchema, { id: open.id, status: open.status }, patch);
    if (!changed) return this.claim(e); // another process took a message for it meanwhile: look again
    const survey = { ...open, ...patch } as Survey;
    await this.reply(survey);
    await this.helpdesk.recordActivity(e.accountId, survey.attendanceId, patch.comment !== undefined ? 'survey_comment' : 'survey_rated', {
      surveyId: survey.id,
      rating: survey.rating,
      ...(patch.comment !== undefined ? { comment: patch.comment } : {}),
    });
    if (survey.status === 'answered') await this.ctx.events.emit('surveys.answered', answeredEvent(survey));
    return true;
  }

  /** The follow-up question or the thank-you that a survey's state calls for, once each. */
  private async reply(s: Survey): Promise<void> {
    const def = await this.definition(s.accountId);
    if (s.status === 'awaiting_comment' && def.followUp) {
      await this.session.send(s.accountId, s.instanceId, s.phone, { kind: 'text', text: def.followUp }, undefined, { key: `surveys:${s.id}:follow-up` });
    } else if (s.status === 'answered' && def.thanks) {
      await this.session.send(s.accountId, s.instanceId, s.phone, { kind: 'text', text: def.thanks }, undefined, { key: `surveys:${s.id}:thanks` });
    }
  }

  /** Closes surveys whose window has passed: unrated ones expire, a rating without its comment stands. */
  async expire(): Promise<number> {
    const em = this.ctx.db.system();
    const now = this.clock.now();
    const expired = await em.nativeUpdate(SurveySchema, { status: 'sent', expiresAt: { $lte: now } }, { status: 'expired' });
    const closed = await em.nativeUpdate(SurveySchema, { status: 'awaiting_comment', expiresAt: { $lte: now } }, { status: 'answered' });
    return expired + closed;
  }
}

export const answeredEvent = (s: Survey) => ({
  accountId: s.accountId,
  surveyId: s.id,
  attendanceId: s.attendanceId,
  instanceId: s.instanceId,
  phone: s.phone,
  kind: s.kind,
  rating: s.rating!,
  comment: s.comment,
  agentId: s.agentId,
  queueId: s.queueId,
});

declare module '@plugchat/core' {
  interface EventMap {
    /** A survey got its rating (and its comment, when one was asked for). */
    'surveys.answered': ReturnType<typeof answeredEvent>;
  }
}
