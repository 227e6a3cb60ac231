/** The helpdesk's domain model: MikroORM entity schemas over the tables of migrations.ts, one file per concern. */
export * from './entities/contacts.js';
export * from './entities/queues.js';
export * from './entities/agents.js';
export * from './entities/attendances.js';
export * from './entities/labels.js';
export * from './entities/quickReplies.js';
export * from './entities/changes.js';
export * from './entities/reportEvents.js';
export * from './entities/preferences.js';

import { ContactSchema } from './entities/contacts.js';
import { QueueSchema, QueueMemberSchema, RoutingSchema } from './entities/queues.js';
import { AgentSchema } from './entities/agents.js';
import { AttendanceSchema, TimelineSchema } from './entities/attendances.js';
import { LabelSchema, AttendanceLabelSchema, ContactLabelSchema } from './entities/labels.js';
import { QuickReplySchema } from './entities/quickReplies.js';
import { ChangeSchema } from './entities/changes.js';
import { ReportEventSchema } from './entities/reportEvents.js';
import { PreferencesSchema } from './entities/preferences.js';

export const helpdeskEntities = [
  ReportEventSchema,
  PreferencesSchema,
  ContactSchema,
  QueueSchema,
  QueueMemberSchema,
  RoutingSchema,
  AgentSchema,
  AttendanceSchema,
  TimelineSchema,
  LabelSchema,
  AttendanceLabelSchema,
  ContactLabelSchema,
  QuickReplySchema,
  ChangeSchema,
];
