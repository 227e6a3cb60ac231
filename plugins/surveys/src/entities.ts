import { EntitySchema, tenantScoped } from '@plugchat/core';

/** The surveys' domain model: MikroORM entity schemas over the tables of migrations.ts. */

export type SurveyKind = 'csat' | 'nps';
/**
 * sent: waiting for a rating; awaiting_comment: rated low, the follow-up question was asked;
 * answered; expired: no rating within the window; not_sent: skipped (see reason).
 */
export type SurveyStatus = 'sent' | 'awaiting_comment' | 'answered' | 'expired' | 'not_sent';
export type NotSentReason = 'queue_excluded' | 'label_skipped' | 'recent_survey' | 'opted_out' | 'send_failed';

const date = { type: 'Date' } as const;
const optDate = { type: 'Date', nullable: true } as const;
const str = { type: 'string' } as const;
const optStr = { type: 'string', nullable: true } as const;
const col = (fieldName: string) => ({ fieldName });

/** An account's survey: what is asked, when, and to whom. */
export interface Definition {
  accountId: string;
  enabled: boolean;
  kind: SurveyKind;
  question: string;
  thanks: string;
  /** Asked after a score at or below followUpAtOrBelow; null: no follow-up. */
  followUp: string | null;
  followUpAtOrBelow: number;
  windowHours: number;
  /** Empty: every queue (and attendances with none). */
  queueIds: string[];
  skipLabelIds: string[];
  /** At most one survey per contact in this many days (0: every resolution). */
  minDaysBetween: number;
  /** Ask with a WhatsApp poll (one option per score); a typed answer still counts. */
  asPoll: boolean;
  updatedAt: Date;
}
export const DefinitionSchema = new EntitySchema<Definition>({
  name: 'SurveysDefinition',
  tableName: 'surveys_definitions',
  ...tenantScoped,
  properties: {
    accountId: { ...str, primary: true, ...col('account_id') },
    enabled: { type: 'boolean' },
    kind: str,
    question: { type: 'text' },
    thanks: { type: 'text' },
    followUp: { type: 'text', nullable: true, ...col('follow_up') },
    followUpAtOrBelow: { type: 'integer', ...col('follow_up_at_or_below') },
    windowHours: { type: 'integer', ...col('window_hours') },
    queueIds: { type: 'json', ...col('queue_ids') },
    skipLabelIds: { type: 'json', ...col('skip_label_ids') },
    minDaysBetween: { type: 'integer', ...col('min_days_between') },
    asPoll: { type: 'boolean', ...col('as_poll') },
    updatedAt: { ...date, ...col('updated_at') },
  },
});

/** One survey of one resolution: who it counts for is fixed when it is sent. */
export interface Survey {
  id: string;
  accountId: string;
  instanceId: string;
  attendanceId: string;
  attendanceNumber: number;
  contactId: string;
  phone: string;
  /** The resolving agent, queue and labels when the survey was sent: later changes do not move the rating. */
  agentId: string | null;
  queueId: string | null;
  /** ",id1,id2," so that a report filters by label with LIKE on either database. */
  labelIds: string;
  kind: SurveyKind;
  status: SurveyStatus;
  reason: NotSentReason | null;
  /** The resolution this survey belongs to: one survey per resolution however often the event arrives. */
  resolvedAt: Date;
  sentAt: Date | null;
  expiresAt: Date | null;
  questionId: string | null;
  /** The question's WhatsApp id (a poll's votes name it). */
  questionWaId: string | null;
  rating: number | null;
  ratingWaId: string | null;
  ratedAt: Date | null;
  comment: string | null;
  commentWaId: string | null;
  createdAt: Date;
}
export const SurveySchema = new EntitySchema<Survey>({
  name: 'SurveysSurvey',
  tableName: 'surveys_surveys',
  ...tenantScoped,
  properties: {
    id: { ...str, primary: true },
    accountId: { ...str, ...col('account_id') },
    instanceId: { ...str, ...col('instance_id') },
    attendanceId: { ...str, ...col('attendance_id') },
    attendanceNumber: { type: 'integer', ...col('attendance_number') },
    contactId: { ...str, ...col('contact_id') },
    phone: str,
    agentId: { ...optStr, ...col('agent_id') },
    queueId: { ...optStr, ...col('queue_id') },
    labelIds: { ...str, ...col('label_ids') },
    kind: str,
    status: str,
    reason: optStr,
    resolvedAt: { ...date, ...col('resolved_at') },
    sentAt: { ...optDate, ...col('sent_at') },
    expiresAt: { ...optDate, ...col('expires_at') },
    questionId: { ...optStr, ...col('question_id') },
    questionWaId: { ...optStr, ...col('question_wa_id') },
    rating: { type: 'integer', nullable: true },
    ratingWaId: { ...optStr, ...col('rating_wa_id') },
    ratedAt: { ...optDate, ...col('rated_at') },
    comment: { type: 'text', nullable: true },
    commentWaId: { ...optStr, ...col('comment_wa_id') },
    createdAt: { ...date, ...col('created_at') },
  },
});

export const surveysEntities = [DefinitionSchema, SurveySchema];
