import { AppError } from '../../core/errors.js';
import { capabilityRefusal, describePlatform, threadRestrictions, type Capability, type CapabilityRefusal } from '../../core/platform-capabilities.js';
import type { ProspectRow } from '../../store/schema.js';
import type { MessageChange, MessageRules } from './messages.js';
import type { TypingRule } from './threads.js';

/**
 * API v2's rules for changing messages and showing typing: what the platform can do (its capabilities, which an
 * account link has), what the thread's conversation allows (its restrictions) and the platform's time windows
 * (core/platform-capabilities.ts). Their refusals are 422s with the capability in question.
 */

const REFUSALS: Record<CapabilityRefusal['code'], { code: string; message: (capability: Capability) => string }> = {
  capabilityNotSupported: { code: 'CAPABILITY_NOT_SUPPORTED', message: (c) => `This account cannot do ${c} on its platform` },
  threadRestricted: { code: 'THREAD_RESTRICTED', message: (c) => `The platform does not allow ${c} in this conversation: the other side cannot receive messages` },
  mutationWindowClosed: { code: 'MUTATION_WINDOW_CLOSED', message: (c) => `The platform's time window for ${c} on this message has passed` },
};

function refusalError(refusal: CapabilityRefusal): AppError {
  const { code, message } = REFUSALS[refusal.code];
  const details = refusal.code === 'mutationWindowClosed' ? { capability: refusal.capability, closedAt: refusal.closedAt.toISOString() } : { capability: refusal.capability };
  return new AppError(422, code, message(refusal.capability), details);
}

const capabilityOf = (change: MessageChange): Capability =>
  change.kind === 'edit' ? 'message:edit' : change.kind === 'react' ? 'message:react' : change.scope === 'self' ? 'message:delete:self' : 'message:unsend';

const restrictionsOf = (recipient: ProspectRow) => threadRestrictions({ accountStatus: recipient.account_status, dmsOpen: recipient.dms_open });

/** Changes made on the platform, by an active account, within what the platform and the conversation allow. */
export const PLATFORM_MESSAGE_RULES: MessageRules = {
  check(change, { thread, message, account, recipient }, now) {
    const refusal = capabilityRefusal(thread.platform, capabilityOf(change), restrictionsOf(recipient), { createdAt: message.created_at, now });
    if (refusal) throw refusalError(refusal);
    const characters = describePlatform(thread.platform)?.limits.characters;
    if (change.kind === 'edit' && characters && [...change.content].length > characters) {
      const detail = `longer than the platform's ${characters.toLocaleString('en-US')} characters`;
      throw new AppError(422, 'CONTENT_REJECTED', `The platform would refuse this text: ${detail}`, { detail });
    }
    if (account.status !== 'active') {
      throw new AppError(409, 'ACCOUNT_LINK_NOT_ACTIVE', `Account link '${account.id}' is ${account.status}`, { accountLinkId: account.id, status: account.status });
    }
  },
  onPlatform: true,
};

/** Typing on a platform that can show it (any thread of it: the typing operation documents no restriction). */
export const PLATFORM_TYPING_RULE: TypingRule = (thread) => {
  const refusal = capabilityRefusal(thread.platform, 'thread:typing:send', []);
  if (refusal) throw refusalError(refusal);
  return null;
};
