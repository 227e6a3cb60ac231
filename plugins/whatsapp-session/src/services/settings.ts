/** whatsapp-session's settings (package.json's plugchat manifest declares them with their defaults). */
export interface Settings {
  'whatsapp-session.waWebSocketUrl': string;
  'whatsapp-session.connectTimeoutSeconds': number;
  'whatsapp-session.mediaCaFile': string;
  'whatsapp-session.queueLimit': number;
  'whatsapp-session.defaultDelayMinMs': number;
  'whatsapp-session.defaultDelayMaxMs': number;
  'whatsapp-session.maxMediaBytes': number;
  'whatsapp-session.optOutKeywords': string[];
  'whatsapp-session.mediaLinkDays': number;
  'whatsapp-session.failoverSeconds': number;
  'whatsapp-session.maxInstancesPerProcess': number;
  'whatsapp-session.timeZone': string;
  'whatsapp-session.rampRecheckSeconds': number;
}
