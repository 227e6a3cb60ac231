import { EntitySchema, tenantScoped } from '@plugchat/core';
import { str, col } from './columns.js';

/** The helpdesk's per-account preferences. */

/** Per-account preferences of the helpdesk. */
export interface Preferences {
  accountId: string;
  /** Day boundaries of the reports and the default of business hours. */
  timeZone: string;
}
export const PreferencesSchema = new EntitySchema<Preferences>({
  name: 'HelpdeskPreferences',
  tableName: 'helpdesk_preferences',
  ...tenantScoped,
  properties: { accountId: { ...str, primary: true, ...col('account_id') }, timeZone: { ...str, ...col('time_zone') } },
});
