/** A phone number's WhatsApp user JID, and back (device and agent parts dropped). */
export const jidOf = (phone: string) => `${phone}@s.whatsapp.net`;
export const phoneOf = (jid: string) => jid.split('@')[0]!.split(':')[0]!;
