import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from '../src/api/ids.js';
import { Cipher } from '../src/services/secrets.js';

describe('sealed secrets and pooled random bytes', () => {
  it('seals each value with its own IV, across refills of the random pool, and opens each again', () => {
    const cipher = new Cipher('a test secret '.padEnd(40, 'x'));
    // 2,000 seals draw 24,000 bytes: the 4 KB pool refills several times.
    const sealed = Array.from({ length: 2_000 }, (_, i) => cipher.encrypt(`value ${i}`));
    const ivs = new Set(sealed.map((s) => s.split('.')[1]));
    expect(ivs.size).toBe(2_000);
    expect(sealed.map((s) => cipher.decrypt(s))).toEqual(Array.from({ length: 2_000 }, (_, i) => `value ${i}`));
  });

  it('hands out bytes that stay as they were when the pool is refilled', () => {
    const first = pooledRandomBytes(32);
    const copy = Buffer.from(first);
    const later = Array.from({ length: 300 }, () => pooledRandomBytes(32).toString('hex'));
    expect(first).toEqual(copy);
    expect(new Set([copy.toString('hex'), ...later]).size).toBe(301);
    expect(pooledRandomBytes(1_000)).toHaveLength(1_000);
  });
});
