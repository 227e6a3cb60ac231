import { HttpError } from '@plugchat/core';

export interface ResolvedMedia {
  data: Buffer;
  mimetype?: string;
}

const DATA_URI = /^data:([\w.+-]+\/[\w.+-]+)?(?:;[\w-]+=[^;,]+)*;base64,([A-Za-z0-9+/=\s]*)$/s;

/**
 * Turns the API's media field (an http(s) URL or a base64 data URI) into bytes,
 * refusing what is too large, not fetchable or not of the expected kind, with
 * errors that name the field.
 */
export async function resolveMedia(value: string, field: string, opts: { maxBytes: number; kind?: 'image' | 'audio' | 'video' }): Promise<ResolvedMedia> {
  const tooLarge = () =>
    new HttpError(413, 'media_too_large', `${field} is larger than ${Math.round(opts.maxBytes / 1048576)} MB.`, { field, maxBytes: opts.maxBytes });
  const m = DATA_URI.exec(value);
  let data: Buffer;
  let mimetype: string | undefined;
  if (m) {
    mimetype = m[1];
    if ((m[2]!.length * 3) / 4 > opts.maxBytes * 1.01) throw tooLarge();
    data = Buffer.from(m[2]!, 'base64');
  } else if (/^https?:\/\//i.test(value)) {
    let res: Response;
    try {
      res = await fetch(value, { signal: AbortSignal.timeout(30_000), redirect: 'follow' });
    } catch (err) {
      throw new HttpError(422, 'media_unreachable', `Could not download ${field}: ${(err as Error).message}`, { field });
    }
    if (!res.ok) throw new HttpError(422, 'media_unreachable', `Downloading ${field} answered HTTP ${res.status}.`, { field });
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > opts.maxBytes) throw tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > opts.maxBytes) throw tooLarge();
      chunks.push(Buffer.from(chunk));
    }
    data = Buffer.concat(chunks);
    mimetype = res.headers.get('content-type')?.split(';')[0] ?? undefined;
  } else {
    throw new HttpError(400, 'validation_failed', `${field} must be an http(s) URL or a data URI (data:<type>;base64,...).`, { issues: [{ path: `body.${field}`, message: 'must be a URL or a base64 data URI' }] });
  }
  if (!data.length) throw new HttpError(400, 'validation_failed', `${field} is empty.`, { issues: [{ path: `body.${field}`, message: 'is empty' }] });
  if (data.length > opts.maxBytes) throw tooLarge();
  if (opts.kind && mimetype && !mimetype.startsWith(`${opts.kind}/`) && mimetype !== 'application/octet-stream') {
    throw new HttpError(415, 'unsupported_media_type', `${field} is ${mimetype}; send a ${opts.kind}/* file.`, { field });
  }
  return { data, mimetype };
}
