import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPrivateAddress, isPrivateHostname } from '../../src/core/network.js';
import { nextRetryAt, RETRY_DELAYS_MS, RETRY_WINDOW_MS } from '../../src/core/webhook-retry.js';

describe('webhook retry schedule', () => {
  const first = new Date('2025-01-15T10:00:00.000Z');

  it('waits the listed delay within ±20%, never past six hours after the first attempt, then gives up', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: RETRY_WINDOW_MS - 1 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempts, elapsed, random) => {
          const now = new Date(first.getTime() + elapsed);
          const next = nextRetryAt(attempts, first, now, () => random)!;
          const base = RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length) - 1]!;
          const delay = next.getTime() - now.getTime();
          const deadline = first.getTime() + RETRY_WINDOW_MS;
          expect(next.getTime()).toBeLessThanOrEqual(deadline);
          if (next.getTime() < deadline) {
            expect(delay).toBeGreaterThanOrEqual(Math.round(base * 0.8));
            expect(delay).toBeLessThanOrEqual(Math.round(base * 1.2));
          }
        },
      ),
    );
    for (const elapsed of [RETRY_WINDOW_MS, RETRY_WINDOW_MS + 1]) {
      expect(nextRetryAt(12, first, new Date(first.getTime() + elapsed), Math.random)).toBeNull();
    }
  });
});

describe('private network detection', () => {
  it('allows only global unicast addresses, in every spelling a URL gives', () => {
    for (const host of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.0.1', '169.254.169.254', '0.0.0.0', '[::1]', '[::]', '[fc00::1]', '[fdff::1]', '[fe80::1]', '[febf::1]', '[::ffff:7f00:1]', 'localhost', 'LocalHost.', 'x.localhost', '100.100.100.200', '[::ffff:100.100.100.200]', '198.19.255.255', '192.0.0.170', '240.0.0.1', '239.255.255.250', '255.255.255.255', '[2001:db8::1]', '[fec0::1]', '[::127.0.0.1]', '[64:ff9b::a00:1]', '[2002:c0a8:101::1]', '[ff02::1]']) {
      expect(isPrivateHostname(host), host).toBe(true);
    }
    for (const host of ['example.com', '8.8.8.8', '172.32.0.1', '11.0.0.1', '100.128.0.1', '[2606:4700::1111]', '[2a00:1450:4001::200e]', 'localhost.example.com']) {
      expect(isPrivateHostname(host), host).toBe(false);
    }
    expect(isPrivateAddress('example.com')).toBe(false);
  });
});
