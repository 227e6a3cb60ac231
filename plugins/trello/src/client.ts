/** Credentials of one Trello connection (never logged: they travel in a header, not the URL). */
export interface TrelloAuth {
  key: string;
  token: string;
}

/** A Trello call that failed: `retry` when waiting helps (429, 5xx, network), `revoked` on 401. */
export class TrelloError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retry: boolean,
  ) {
    super(message);
  }
  get revoked() {
    return this.status === 401;
  }
}

export interface TrelloCardJson {
  id: string;
  name: string;
  shortLink: string;
  shortUrl: string;
  url: string;
  idBoard: string;
  idList: string;
  due: string | null;
  closed: boolean;
  desc?: string;
  idMembers?: string[];
  labels?: { id: string; name: string; color: string | null }[];
}

/** Trello's REST API (https://api.trello.com/1 or the base URL the settings name). */
export class TrelloClient {
  constructor(
    private readonly baseUrl: () => string,
    private readonly timeoutMs = 15_000,
  ) {}

  async call<T>(auth: TrelloAuth, method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, params: Record<string, string | number | boolean | undefined | null> = {}): Promise<T> {
    const url = new URL(this.baseUrl().replace(/\/$/, '') + path);
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null) continue;
      if (method === 'GET' || method === 'DELETE') url.searchParams.set(k, String(v));
      else body.set(k, String(v));
    }
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `OAuth oauth_consumer_key="${auth.key}", oauth_token="${auth.token}"`,
          accept: 'application/json',
          ...(method === 'POST' || method === 'PUT' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: method === 'POST' || method === 'PUT' ? body.toString() : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new TrelloError(0, `Trello could not be reached (${(err as Error).message}).`, true);
    }
    const text = await res.text();
    if (res.ok) return (text ? JSON.parse(text) : {}) as T;
    const detail = text.slice(0, 200);
    if (res.status === 401) throw new TrelloError(401, 'Trello refused the token (revoked or expired). An admin must reconnect Trello under Trello settings.', false);
    if (res.status === 429) throw new TrelloError(429, `Trello's rate limit was reached (${detail}); retrying later.`, true);
    if (res.status >= 500) throw new TrelloError(res.status, `Trello failed (${res.status}); retrying later.`, true);
    throw new TrelloError(res.status, `Trello answered ${res.status}: ${detail}`, false);
  }
}
