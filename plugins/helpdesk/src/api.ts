import type { Caller } from '@plugchat/core';
import type { ReceivedMessageEvent } from '@plugchat/whatsapp-session';
import type { AttendanceStatus } from './entities.js';

interface AttendanceRef {
  accountId: string;
  attendanceId: string;
  number: number;
  instanceId: string;
  contactId: string;
  phone: string;
  queueId: string | null;
  assigneeId: string | null;
}

declare module '@plugchat/core' {
  interface EventMap {
    'helpdesk.attendance.created': AttendanceRef;
    'helpdesk.attendance.assigned': AttendanceRef & { previousAssigneeId: string | null; byUserId: string | null };
    'helpdesk.attendance.transferred': AttendanceRef & { fromQueueId: string | null; fromAssigneeId: string | null; byUserId: string | null };
    /** The assignee and queue are those at the moment of resolution (a snapshot for surveys and reports). */
    'helpdesk.attendance.resolved': AttendanceRef & { byUserId: string | null; resolvedAt: string };
    'helpdesk.attendance.reopened': AttendanceRef & { byUserId: string | null };
    'helpdesk.message.created': AttendanceRef & {
      itemId: string;
      direction: 'in' | 'out';
      waId: string;
      sessionMessageId: string;
      type: string;
      text?: string;
      authorId: string | null;
    };
  }
}

export type { AttendanceRef };

export interface TranscriptLine {
  at: string;
  direction: 'in' | 'out';
  author: string | null;
  type: string;
  text: string;
}

/** What a plugin contributes to helpdesk.attendanceActions (Trello's "create a card", say). */
export interface AttendanceAction {
  id: string;
  title: string;
  /** Shown to the agent; runs with the attendance the agent may see. */
  run(input: { caller: Caller; attendance: AttendanceRef & { status: AttendanceStatus }; body: unknown }): Promise<unknown>;
}

/**
 * What a plugin contributes to helpdesk.inboundClaims: asked before a customer's message reaches an
 * attendance. Answering true keeps the message out of the helpdesk (a survey's rating, say); it
 * must answer alike for an event delivered again after a crash.
 */
export interface InboundClaim {
  id: string;
  claim(e: ReceivedMessageEvent): Promise<boolean>;
}

export interface HelpdeskApi {
  /** An attendance as a plugin sees it, or undefined when it is not the account's. */
  attendance(accountId: string, id: string): Promise<(AttendanceRef & { status: AttendanceStatus; labelIds: string[] }) | undefined>;
  /** The attendance when the caller may see it (agents: their queues and their own); 404 otherwise. */
  visibleAttendance(caller: Caller, id: string): Promise<AttendanceRef & { status: AttendanceStatus; contactName: string | null }>;
  /**
   * The attendance's messages, oldest first, as text for a transcript (media as its kind and
   * caption); `author` is the agent's name, null for the customer, "automatic" or "phone".
   */
  transcript(accountId: string, attendanceId: string): Promise<TranscriptLine[]>;
  /** The account's queues, for names in other plugins' tables and pickers. */
  queues(accountId: string): Promise<{ id: string; name: string }[]>;
  /** The account's time zone (reports' day boundaries). */
  timeZone(accountId: string): Promise<string>;
  /** Adds a line to the attendance's activity log (and the agents' live view). */
  recordActivity(accountId: string, attendanceId: string, type: string, data: Record<string, unknown>, actorId?: string | null): Promise<void>;
}

/** The period and filters a report shows, as a contributor receives them. */
export interface ReportQuery {
  accountId: string;
  from: Date;
  to: Date;
  timeZone: string;
  instanceId?: string;
  queueId?: string;
  agentId?: string;
  labelId?: string;
}

/** One figure a plugin adds to the reports page. */
export interface ContributedFigure {
  key: string;
  label: string;
  value: number | null;
  unit: 'count' | 'percent' | 'score' | 'seconds';
}

/** What a plugin contributes to helpdesk.reportFigures (surveys' CSAT and NPS, say): reports never import it. */
export interface ReportContribution {
  id: string;
  title: string;
  figures(query: ReportQuery): Promise<ContributedFigure[]>;
}
