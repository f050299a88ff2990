import { systemClock, type Clock } from '../core/clock.js';
import type { Db } from '../store/db.js';
import { platformRegistry, type PlatformRegistry } from './platform.js';
import { SandboxPlatform } from './sandbox.js';

/** The platforms every process offers. The X adapter joins here once it exists. */
export function createPlatformRegistry(db: Db, clock: Clock = systemClock): PlatformRegistry {
  return platformRegistry([new SandboxPlatform(db, clock)]);
}
