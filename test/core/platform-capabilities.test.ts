import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mediaTypeMismatch } from '../../src/core/attachments.js';
import { CAPABILITIES, capabilityRefusal, describePlatform, PLATFORMS, threadRestrictions } from '../../src/core/platform-capabilities.js';

const capability = fc.constantFrom(...CAPABILITIES);
const platform = fc.constantFrom(...PLATFORMS.map((p) => p.platform));
const restrictions = fc.subarray([...CAPABILITIES]);
const instant = fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true });

describe('platform capabilities', () => {
  it('refuses what the platform cannot do first, then what the thread restricts, then a closed window', () => {
    fc.assert(
      fc.property(platform, capability, restrictions, instant, fc.integer({ min: -10_000_000, max: 10_000_000 }), (name, wanted, restricted, createdAt, elapsedMs) => {
        const now = new Date(createdAt.getTime() + elapsedMs);
        const refusal = capabilityRefusal(name, wanted, restricted, { createdAt, now });
        const description = describePlatform(name)!;
        const window = description.mutationWindows[wanted];
        if (!description.capabilities.includes(wanted)) expect(refusal).toEqual({ code: 'capabilityNotSupported', capability: wanted });
        else if (restricted.includes(wanted)) expect(refusal).toEqual({ code: 'threadRestricted', capability: wanted });
        else if (window !== undefined && elapsedMs >= window * 1000) {
          expect(refusal).toEqual({ code: 'mutationWindowClosed', capability: wanted, closedAt: new Date(createdAt.getTime() + window * 1000) });
        } else expect(refusal).toBeNull();
      }),
    );
  });

  it('judges no window without a message to change', () => {
    fc.assert(
      fc.property(platform, capability, (name, wanted) => {
        expect(capabilityRefusal(name, wanted, [])?.code).not.toBe('mutationWindowClosed');
      }),
    );
  });

  it('lets X do exactly what X API v2 allows, and the sandbox everything', () => {
    expect(CAPABILITIES.filter((c) => !capabilityRefusal('twitter', c, []))).toEqual(['message:send', 'message:delete:self', 'media:image', 'media:video', 'media:gif']);
    expect(CAPABILITIES.filter((c) => !capabilityRefusal('sandbox', c, []))).toEqual(CAPABILITIES);
    expect(capabilityRefusal('myspace', 'message:send', [])).toEqual({ code: 'capabilityNotSupported', capability: 'message:send' });
  });

  it('restricts what would reach someone who cannot receive messages, never deleting for oneself', () => {
    expect(threadRestrictions({ accountStatus: 'active', dmsOpen: true })).toEqual([]);
    for (const recipient of [{ accountStatus: 'suspended', dmsOpen: true }, { accountStatus: 'active', dmsOpen: false }]) {
      const restricted = threadRestrictions(recipient);
      expect(restricted).toEqual(expect.arrayContaining(['message:send', 'message:edit', 'message:unsend', 'message:react']));
      expect(restricted).not.toContain('message:delete:self');
    }
  });

  it('tells media types that do not fit their kind', () => {
    expect(mediaTypeMismatch('image', 'image/PNG')).toBeNull();
    expect(mediaTypeMismatch('image', 'image/gif')).toMatch(/kind gif/);
    expect(mediaTypeMismatch('gif', 'image/gif')).toBeNull();
    expect(mediaTypeMismatch('gif', 'video/mp4')).toMatch(/image\/gif/);
    expect(mediaTypeMismatch('video', 'audio/mpeg')).toMatch(/video\/\*/);
    expect(mediaTypeMismatch('file', 'application/pdf')).toBeNull();
  });
});
