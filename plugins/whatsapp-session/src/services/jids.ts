/**
 * A chat's Z-API phone and its WhatsApp JID, both ways. People are digits (`5511999999999`,
 * `…@s.whatsapp.net`); groups are `120363019502650977-group` (`…@g.us`), and groups made before
 * November 2021 keep their `5511999999999-1623281429` id. Device and agent parts are dropped.
 */
export const jidOf = (phone: string) => {
  if (phone.endsWith('-group')) return `${phone.slice(0, -'-group'.length)}@g.us`;
  return phone.includes('-') ? `${phone}@g.us` : `${phone}@s.whatsapp.net`;
};
export const phoneOf = (jid: string) => {
  const user = jid.split('@')[0]!.split(':')[0]!;
  return jid.endsWith('@g.us') && !user.includes('-') ? `${user}-group` : user;
};
export const isGroupJid = (jid: string) => jid.endsWith('@g.us');
export const isGroupPhone = (phone: string) => phone.includes('-');
