/** An empty PostgreSQL database of its own, and its removal (freshPostgres.js, shared with the benchmarks). */
export function freshPostgres(baseUrl: string, prefix?: string): Promise<{ url: string; drop: () => Promise<void> }>;
