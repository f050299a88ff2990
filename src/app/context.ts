import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { seededRandom, type Random } from '../core/random.js';
import type { Config } from '../config.js';
import type { PlatformRegistry } from '../platforms/platform.js';
import type { LeadWait } from '../core/waiting.js';
import type { Db } from '../store/db.js';
import type { CampaignLeadRow, CampaignRow } from '../store/schema-campaigns.js';
import type { EventStreams } from './events/stream.js';

/**
 * When the engine sends each of a campaign's leads next and what holds it back, from the engine's own plan
 * (engine/lead-waits.ts). Use cases do not plan sends: the composition root wires the engine's in.
 */
export type LeadWaits = (db: Db, random: Random, now: Date, campaign: CampaignRow, leads: readonly CampaignLeadRow[]) => Promise<Map<string, LeadWait>>;

/** What every use case may reach: the store, the clock, the configuration, a logger and the messaging platforms. */
export interface AppContext {
  db: Db;
  clock: Clock;
  config: Config;
  logger: Logger;
  platforms: PlatformRegistry;
  /** the live event streams of a process that serves HTTP (GET /events/stream exists only with them) */
  eventStreams?: EventStreams;
  /** the engine's random stream (engineRandom), when not the one every process seeds alike: tests and simulations */
  engineRandom?: Random;
  /** a campaign lead's nextSendAt and waitingFor */
  leadWaits: LeadWaits;
}

/** Every process seeds the engine alike, so all of them draw the same pacing jitter for the same send. */
const ENGINE_SEED = 'inbox-engine';

/** The random stream the engine draws from; whoever predicts its plan (a lead's waitingFor) draws from it too. */
export const engineRandom = (ctx: AppContext): Random => ctx.engineRandom ?? seededRandom(ENGINE_SEED);

/** The caller of a use case: a team, and the member and user acting for it. */
export interface Actor {
  teamId: string;
  memberId: string;
  userId: string;
  role: 'owner' | 'admin' | 'user';
}
