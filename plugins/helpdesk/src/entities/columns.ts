/** Column shapes the entity schemas share. */
export const date = { type: 'Date' } as const;
export const optDate = { type: 'Date', nullable: true } as const;
export const str = { type: 'string' } as const;
export const optStr = { type: 'string', nullable: true } as const;
export const col = (fieldName: string) => ({ fieldName });
