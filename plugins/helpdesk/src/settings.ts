export interface Settings {
  'helpdesk.reopenWindowMinutes': number;
  'helpdesk.defaultCapacity': number;
  'helpdesk.presenceGraceSeconds': number;
  'helpdesk.timeZone': string;
}
