import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pooledRandomBytes } from '../api/ids.js';

const KEY_FILE = 'app-secret.key';

/**
 * Returns the application secret: APP_SECRET when set, otherwise a key generated
 * on first start and kept in DATA_DIR with mode 600 so restarts can still decrypt.
 */
export function loadAppSecret(dataDir: string, fromEnv?: string): { secret: string; source: 'env' | 'file' | 'generated' } {
  if (fromEnv) return { secret: fromEnv, source: 'env' };
  const file = path.join(dataDir, KEY_FILE);
  if (existsSync(file)) return { secret: readFileSync(file, 'utf8').trim(), source: 'file' };
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { secret, source: 'generated' };
}

/** AES-256-GCM with a key derived from the app secret; output is `v1.<iv>.<tag>.<data>` in base64url. */
export class Cipher {
  private readonly key: Buffer;

  constructor(appSecret: string) {
    this.key = createHash('sha256').update('plugchat:encryption:v1').update(appSecret).digest();
  }

  encrypt(plain: string | Buffer): string {
    // Random 96-bit IVs, never reused: each byte of the pool is handed out once.
    const iv = pooledRandomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain), cipher.final()]);
    const tag = cipher.getAuthTag();
    return ['v1', iv.toString('base64url'), tag.toString('base64url'), data.toString('base64url')].join('.');
  }

  decryptToBuffer(sealed: string): Buffer {
    const [version, iv, tag, data] = sealed.split('.');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('Not a PlugChat ciphertext');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]);
  }

  decrypt(sealed: string): string {
    return this.decryptToBuffer(sealed).toString('utf8');
  }
}
