import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface MediaServerOptions {
  host?: string;
  port?: number;
  /** Where uploads and the certificate are kept; none keeps uploads in memory with a fresh certificate. */
  dir?: string;
  maxBytes?: number;
}

const UPLOAD = /^\/mms\/(image|video|audio|document|sticker|md-msg-hist|md-app-state)\/([A-Za-z0-9_-]+)$/;
const DOWNLOAD = /^\/v\/t62\/([a-f0-9]{32})\.enc$/;

/**
 * The HTTPS media host of the sandbox (§7): Baileys uploads encrypted media here
 * and recipients download it from the url it returns. Its certificate is
 * self-signed; the product trusts it through NODE_EXTRA_CA_CERTS=<caFile>.
 */
export class MediaServer {
  private server?: Server;
  private readonly memory = new Map<string, Buffer>();
  readonly dir?: string;
  caFile?: string;
  cert = '';
  host = '';

  constructor(private readonly opts: MediaServerOptions = {}) {
    this.dir = opts.dir;
  }

  private async certificate(): Promise<{ cert: string; key: string }> {
    const certFile = this.dir && path.join(this.dir, 'media-cert.pem');
    const keyFile = this.dir && path.join(this.dir, 'media-key.pem');
    if (certFile && keyFile && existsSync(certFile) && existsSync(keyFile)) {
      return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
    }
    const notAfterDate = new Date();
    notAfterDate.setFullYear(notAfterDate.getFullYear() + 10);
    const pems = await generate([{ name: 'commonName', value: 'PlugChat sandbox media' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
      ],
    });
    if (certFile && keyFile) {
      mkdirSync(this.dir!, { recursive: true });
      writeFileSync(keyFile, pems.private, { mode: 0o600 });
      writeFileSync(certFile, pems.cert);
    }
    return { cert: pems.cert, key: pems.private };
  }

  async start(): Promise<string> {
    const { cert, key } = await this.certificate();
    this.cert = cert;
    if (this.dir) this.caFile = path.join(this.dir, 'media-cert.pem');
    const server = createServer({ cert, key }, (req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: String((err as Error).message) }));
      });
    });
    server.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.host = `${this.opts.host ?? '127.0.0.1'}:${addr.port}`;
    return this.host;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Stores an already encrypted blob directly (the virtual phones upload this way). */
  put(body: Buffer): { url: string; directPath: string } {
    const id = randomBytes(16).toString('hex');
    if (this.dir) {
      mkdirSync(path.join(this.dir, 'media'), { recursive: true });
      writeFileSync(this.file(id), body);
    } else this.memory.set(id, body);
    const directPath = `/v/t62/${id}.enc?ccb=sim`;
    return { url: `https://${this.host}${directPath}`, directPath };
  }

  private file(id: string) {
    return path.join(this.dir!, 'media', `${id}.enc`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', `https://${this.host}`);
    const upload = UPLOAD.exec(url.pathname);
    if (req.method === 'POST' && upload) {
      const chunks: Buffer[] = [];
      let size = 0;
      const max = this.opts.maxBytes ?? 100 * 1024 * 1024;
      for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > max) {
          res.writeHead(413, { 'content-type': 'application/json' });
          res.end('{"error":"too large"}');
          req.destroy();
          return;
        }
        chunks.push(chunk as Buffer);
      }
      const { url: mediaUrl, directPath } = this.put(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ url: mediaUrl, direct_path: directPath }));
      return;
    }
    const download = DOWNLOAD.exec(url.pathname);
    if (req.method === 'GET' && download) {
      const id = download[1]!;
      const body = this.memory.get(id) ?? (this.dir && existsSync(this.file(id)) ? readFileSync(this.file(id)) : undefined);
      if (!body) {
        res.writeHead(404);
        res.end();
        return;
      }
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (range) {
        const start = Number(range[1]);
        const end = range[2] ? Math.min(Number(range[2]), body.length - 1) : body.length - 1;
        res.writeHead(206, { 'content-type': 'application/octet-stream', 'content-range': `bytes ${start}-${end}/${body.length}`, 'content-length': end - start + 1 });
        res.end(body.subarray(start, end + 1));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      res.end(body);
      return;
    }
    res.writeHead(404);
    res.end();
  }
}
