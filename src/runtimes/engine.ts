import { runAutomations } from '../app/campaigns/automations.js';
import { recordCampaignSends } from '../app/campaigns/outcomes.js';
import { applyLifecycle } from '../app/campaigns/campaigns.js';
import { engineRandom, type AppContext } from '../app/context.js';
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import { databaseEngineStore } from '../engine/database-store.js';
import { Dispatcher, type EngineOptions } from '../engine/dispatcher.js';
import { MemoryEngineStore, type EngineState } from '../engine/memory-store.js';
import type { EnginePorts, EngineStore } from '../engine/ports.js';
import { StorelessSandbox } from '../platforms/sandbox.js';
import type { Db } from '../store/db.js';
import type { ProspectRow } from '../store/schema.js';

/**
 * The engine's ports wired to the use cases that fill them (engine/ports.ts): what a batch's sends make visible
 * in the inbox, the automations of a lead that completes, the campaign lifecycle.
 */
export const enginePorts: EnginePorts = { recordSends: recordCampaignSends, runAutomations, applyLifecycle };

/** The engine's store on a database, its ports wired to the use cases. */
export const engineStore = (db: Db): EngineStore<ProspectRow> => databaseEngineStore(db, enginePorts);

/**
 * The sending engine on a memory store of `state` (engine/memory-store.ts), every account meeting the sandbox as
 * a copy sees it (default users, nothing kept): a forecast's. The store is returned to read the run's results.
 */
export function memoryEngine(state: EngineState, ctx: { clock: Clock; logger: Logger }, random: Random, options?: EngineOptions): { engine: Dispatcher; store: MemoryEngineStore } {
  const store = new MemoryEngineStore(state);
  const sandbox = new StorelessSandbox();
  return { engine: new Dispatcher({ store, clock: ctx.clock, logger: ctx.logger, platforms: { get: () => sandbox } }, random, options), store };
}

/** The sending engine on a use-case context: `serve`, `worker`, the simulation, benchmarks and tests. */
export const sendingEngine = (ctx: AppContext, random: Random = engineRandom(ctx), options?: EngineOptions): Dispatcher =>
  new Dispatcher({ store: engineStore(ctx.db), clock: ctx.clock, logger: ctx.logger, platforms: ctx.platforms }, random, options);
