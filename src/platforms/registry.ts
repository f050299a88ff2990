import { XTokenStore } from './x-credentials.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { Config } from '../config.js';
import type { Db } from '../store/db.js';
import { platformRegistry, type Platform, type PlatformRegistry } from './platform.js';
import { SandboxPlatform } from './sandbox.js';
import { X_ID, XPlatform } from './x.js';
import { XApi } from './x-api.js';

/** The platforms every process offers: the sandbox always, X when its OAuth client and a secret key for its tokens are configured. */
export function createPlatformRegistry(db: Db, clock: Clock = systemClock, config?: Config): PlatformRegistry {
  const platforms: Platform[] = [new SandboxPlatform(db, clock)];
  if (config?.secretKey && config.x.client) {
    const api = new XApi(config.x, clock);
    platforms.push(new XPlatform(db, clock, config.x, api, new XTokenStore(db, clock, config.secretKey, api)));
  }
  return platformRegistry(platforms);
}

/**
 * The form of a platform user id this server takes at its edge (the API's paths, queries and bodies): the
 * forms its platforms use. Both are X's (the sandbox simulates X); a platform with ids of another form widens
 * this, and nothing above the adapters changes.
 */
export const PLATFORM_USER_ID = { pattern: X_ID, message: 'must be a decimal platform user id' } as const;
