import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { Config } from '../config.js';
import type { PlatformRegistry } from '../platforms/platform.js';
import type { Db } from '../store/db.js';
import type { EventStreams } from './event-stream.js';

/** What every use case may reach: the store, the clock, the configuration, a logger and the messaging platforms. */
export interface AppContext {
  db: Db;
  clock: Clock;
  config: Config;
  logger: Logger;
  platforms: PlatformRegistry;
  /** the live event streams of a process that serves HTTP (GET /events/stream exists only with them) */
  eventStreams?: EventStreams;
}

/** The caller of a use case: a team, and the member and user acting for it. */
export interface Actor {
  teamId: string;
  memberId: string;
  userId: string;
  role: 'owner' | 'admin' | 'user';
}
