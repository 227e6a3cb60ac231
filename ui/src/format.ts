import { parsePhoneNumberFromString } from 'libphonenumber-js/min';

/** +55 21 98888-7777 from 5521988887777; the digits as they are when the number does not parse. */
export function formatPhone(digits: string | null | undefined): string {
  if (!digits) return '';
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  return parsed?.isValid() ? parsed.formatInternational() : `+${digits}`;
}
