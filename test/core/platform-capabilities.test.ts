import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MEDIA_KINDS, mediaTypeMismatch } from '../../src/core/attachments.js';
import { accountCapabilities, CAPABILITIES, capabilityRefusal, describePlatform, mediaRefusal, PLATFORMS, threadRestrictions } from '../../src/core/platform-capabilities.js';

const capability = fc.constantFrom(...CAPABILITIES);
const platform = fc.constantFrom(...PLATFORMS.map((p) => p.platform));
const restrictions = fc.subarray([...CAPABILITIES]);
const instant = fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true });

describe('platform capabilities', () => {
  it('refuses what the account link cannot do first, then what the thread restricts, then a closed window', () => {
    fc.assert(
      fc.property(platform, capability, restrictions, instant, fc.integer({ min: -10_000_000, max: 10_000_000 }), (name, wanted, restricted, createdAt, elapsedMs) => {
        const now = new Date(createdAt.getTime() + elapsedMs);
        const refusal = capabilityRefusal(name, wanted, restricted, { createdAt, now });
        const description = describePlatform(name)!;
        const window = description.mutationWindows[wanted];
        if (!accountCapabilities(name).includes(wanted)) expect(refusal).toEqual({ code: 'capabilityNotSupported', capability: wanted });
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

  it('describes X as X API v2 allows, its account links without media (no upload here), and the sandbox as everything', () => {
    expect(describePlatform('twitter')!.capabilities).toEqual(['message:send', 'message:delete:self', 'media:image', 'media:video', 'media:gif']);
    expect(CAPABILITIES.filter((c) => !capabilityRefusal('twitter', c, []))).toEqual(['message:send', 'message:delete:self']);
    expect(CAPABILITIES.filter((c) => !capabilityRefusal('sandbox', c, []))).toEqual(CAPABILITIES);
    // An account link can do at most what its platform can.
    for (const { platform, capabilities } of PLATFORMS) expect(capabilities).toEqual(expect.arrayContaining(accountCapabilities(platform)));
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

  it('refuses media the account link cannot send, then more than the platform takes', () => {
    expect(mediaRefusal('sandbox', [])).toBeNull();
    expect(mediaRefusal('sandbox', ['image', 'file', 'audio', 'gif'])).toBeNull();
    expect(mediaRefusal('sandbox', Array(5).fill('image'))).toEqual({ code: 'contentRejected', detail: "5 attachments, over Sandbox's 4" });
    expect(mediaRefusal('twitter', ['image'])).toEqual({ code: 'capabilityNotSupported', capability: 'media:image' });
    expect(mediaRefusal('twitter', ['file', 'video'])).toEqual({ code: 'capabilityNotSupported', capability: 'media:file' });
    expect(mediaRefusal('twitter', [])).toBeNull();
    fc.assert(
      fc.property(platform, fc.array(fc.constantFrom(...MEDIA_KINDS), { maxLength: 6 }), (name, kinds) => {
        const refusal = mediaRefusal(name, kinds);
        const missing = kinds.find((kind) => !accountCapabilities(name).includes(`media:${kind}`));
        if (missing) expect(refusal).toEqual({ code: 'capabilityNotSupported', capability: `media:${missing}` });
        else if (kinds.length > (describePlatform(name)!.limits.mediaCount ?? Infinity)) expect(refusal?.code).toBe('contentRejected');
        else expect(refusal).toBeNull();
      }),
    );
  });
});
