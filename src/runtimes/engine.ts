import { runAutomations } from '../app/campaigns/automations.js';
import { recordCampaignSends } from '../app/campaigns/outcomes.js';
import { applyLifecycle } from '../app/campaigns/campaigns.js';
import { engineRandom, type AppContext } from '../app/context.js';
import type { Random } from '../core/random.js';
import { Dispatcher, type EngineOptions } from '../engine/dispatcher.js';
import type { EnginePorts } from '../engine/ports.js';

/**
 * The engine's ports wired to the use cases that fill them (engine/ports.ts): what a batch's sends make visible
 * in the inbox, the automations of a lead that completes, the campaign lifecycle.
 */
export const enginePorts: EnginePorts = { recordSends: recordCampaignSends, runAutomations, applyLifecycle };

/** The sending engine on a use-case context: `serve`, `worker`, the simulation, the forecast, benchmarks and tests. */
export const sendingEngine = (ctx: AppContext, random: Random = engineRandom(ctx), options?: EngineOptions): Dispatcher =>
  new Dispatcher({ ...ctx, ports: enginePorts }, random, options);
