import { describe, expect, it } from 'vitest';
import { DeviceListCache } from '../src/transport/deviceCache.js';

describe('the device lists a send is encrypted for', () => {
  it('remembers that a user has no devices besides the phone once the lookup had time to answer', () => {
    let now = 1_000_000;
    const cache = new DeviceListCache(() => now);
    // First send: a miss, so Baileys asks WhatsApp; its answer named no companions (nothing stored).
    expect(cache.get('5521999990000')).toBeUndefined();
    now += 500;
    // A send while that lookup may still be out asks again, as Baileys does without this cache.
    expect(cache.get('5521999990000')).toBeUndefined();
    now += 2_000;
    expect(cache.get('5521999990000')).toEqual([]);
    // Trusted a minute, then asked again.
    now += 60_000;
    expect(cache.get('5521999990000')).toBeUndefined();
  });

  it('keeps a list a lookup found for five minutes, over a "none" it replaces', () => {
    let now = 0;
    const cache = new DeviceListCache(() => now);
    expect(cache.get('5511988887777')).toBeUndefined();
    const devices = [{ user: '5511988887777', device: 3 }];
    cache.set('5511988887777', devices);
    expect(cache.get('5511988887777')).toBe(devices);
    now += 4 * 60_000;
    expect(cache.get('5511988887777')).toBe(devices);
    now += 2 * 60_000;
    expect(cache.get('5511988887777')).toBeUndefined();
    cache.set('x', []);
    cache.del('x');
    expect(cache.get('x')).toBeUndefined();
  });
});
