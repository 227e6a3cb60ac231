/** Cents as money in the reader's language (R$ 99,00). */
export const money = (cents: number, currency: string, locale: string) => new Intl.NumberFormat(locale, { style: 'currency', currency }).format(cents / 100);
