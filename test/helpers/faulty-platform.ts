import { PlatformError, type Platform, type PlatformAccount, type PlatformProfile, type SentDm } from '../../src/platforms/platform.js';
import type { SandboxPlatform } from '../../src/platforms/sandbox.js';
import type { TestClock } from './clock.js';

/** `answerLost`: the platform took the DM, its answer never came back (an adapter's timeout: a transient failure). */
export type Fault = 'crashBeforeSend' | 'crashAfterSend' | 'answerLost' | 'crashInLookup' | 'rateLimited' | 'authRevoked';

/** The sandbox platform with faults injected at each point of the send protocol. A crash is any non-platform error. */
export class FaultyPlatform implements Platform {
  readonly name = 'sandbox' as const;
  readonly faults: Fault[] = [];
  resetAt: Date | undefined;
  /** how long a delivered-message lookup takes on the platform's clock (a slow search) */
  lookupMs = 0;
  /** awaited once, before the next DM goes out: a test holds a send in flight with it */
  beforeSend: (() => Promise<void>) | undefined;

  constructor(
    private readonly inner: SandboxPlatform,
    private readonly clock: TestClock,
  ) {}

  profileById = (id: string) => this.inner.profileById(id);
  profilesByIds = (ids: readonly string[]): Promise<Map<string, PlatformProfile>> => this.inner.profilesByIds(ids);
  profileByUsername = (name: string) => this.inner.profileByUsername(name);
  likeLatestPost = (account: PlatformAccount, userId: string) => this.inner.likeLatestPost(account, userId);

  #take(fault: Fault): boolean {
    const index = this.faults.indexOf(fault);
    if (index >= 0) this.faults.splice(index, 1);
    return index >= 0;
  }

  async sendDm(account: PlatformAccount, recipient: string, text: string): Promise<SentDm> {
    const hold = this.beforeSend;
    this.beforeSend = undefined;
    await hold?.();
    if (this.#take('crashBeforeSend')) throw new Error('process died before the request');
    if (this.#take('rateLimited')) throw new PlatformError('rate_limited', 'slow down', this.resetAt);
    if (this.#take('authRevoked')) throw new PlatformError('auth_revoked', 'token revoked');
    const sent = await this.inner.sendDm(account, recipient, text);
    if (this.#take('crashAfterSend')) throw new Error('process died after the platform accepted the DM');
    if (this.#take('answerLost')) throw new PlatformError('transient', 'the platform did not answer in time');
    return sent;
  }

  async findDelivered(account: PlatformAccount, recipient: string, text: string, since: Date): Promise<string | null> {
    if (this.#take('crashInLookup')) throw new Error('process died during the lookup');
    const found = await this.inner.findDelivered(account, recipient, text, since);
    this.clock.advance(this.lookupMs);
    return found;
  }
}

