import pino from 'pino';
import { z } from 'zod';
import { linkSandboxAccount, listAccountLinks, updateAccountLink } from '../app/accounts/account-links.js';
import { replaceAutomations, type AutomationInput } from '../app/campaigns/automations.js';
import { replaceSequence } from '../app/campaigns/sequence.js';
import { createCampaign, disableCampaign, enableCampaign, getCampaign } from '../app/campaigns/campaigns.js';
import { CAMPAIGN_COLUMNS, createColumn } from '../app/leads/columns.js';
import type { AppContext } from '../app/context.js';
import { eventsAfter, type EventEnvelope } from '../app/events/events.js';
import { createJobRunner } from '../app/workers/background-jobs.js';
import type { JobRunner } from '../app/workers/jobs.js';
import { createLabel, STATUS, TAG } from '../app/prospects/labels.js';
import { updateLeadRules } from '../app/campaigns/lead-rules.js';
import { addListLeads } from '../app/lists/leads.js';
import { createList } from '../app/lists/lists.js';
import { deliverSandboxDm } from '../app/inbox/sandbox.js';
import { createTeam } from '../app/team/teams.js';
import { AppError, invalidFields } from '../core/errors.js';
import { withIdGenerator } from '../core/ids.js';
import { fieldsWithNul, NUL_MESSAGE } from '../core/nul-characters.js';
import { seededRandom, type Random } from '../core/random.js';
import { validateSchedule, validateTimeZone, type Schedule } from '../core/schedule.js';
import type { SequenceStep } from '../core/sequence.js';
import { loadConfig } from '../config.js';
import { addCampaignLeads } from '../app/campaigns/leads.js';
import { MAX_LEADS_PER_ADD } from '../app/leads/input.js';
import { putSandboxProfile } from '../platforms/sandbox.js';
import { X_ID } from '../platforms/x.js';
import { createPlatformRegistry } from '../platforms/registry.js';
import { openScratchStore, type Db } from '../store/db.js';
import { nextEngineInstant } from '../engine/dispatcher.js';
import { leadWaits } from '../engine/lead-waits.js';
import { sendingEngine } from './engine.js';

/**
 * `inbox simulate`: a scenario (docs/simulation.md) run on a fresh in-memory store with the sandbox platform,
 * in virtual time that jumps from one instant at which something can happen to the next. Every event is
 * written as one JSON line (the webhook envelope), then a simulation.summary line. Ids come from the seed, so
 * the same scenario gives the same bytes.
 */

const instant = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
// The simulation runs on the sandbox, whose users have X's ids.
const platformId = z.string().regex(X_ID, 'must be a decimal platform id');
const steps = z.array(z.object({ type: z.enum(['message', 'delay', 'likeTweet']), data: z.any().optional() }).loose());

const profileSchema = z.object({
  platformId,
  username: z.string().optional(),
  displayName: z.string().optional(),
  bio: z.string().optional(),
  location: z.string().optional(),
  accountStatus: z.enum(['active', 'suspended', 'deactivated']).optional(),
  dmsOpen: z.boolean().optional(),
});

const eventSchema = z.discriminatedUnion('type', [
  z.object({ at: instant, type: z.literal('profile'), profile: profileSchema }),
  z.object({ at: instant, type: z.literal('inbound'), account: z.string(), from: platformId, content: z.string().min(1) }),
  z.object({ at: instant, type: z.literal('accountStatus'), account: z.string(), status: z.enum(['active', 'offline', 'paused']) }),
  z.object({ at: instant, type: z.enum(['enable', 'disable']) }),
  z.object({ at: instant, type: z.literal('sequence'), steps }),
]);

const automationSchema = z.discriminatedUnion('action', [
  z.object({ trigger: z.enum(['replied', 'contacted', 'completed']), action: z.literal('setStatus'), status: z.string() }),
  z.object({ trigger: z.enum(['replied', 'contacted', 'completed']), action: z.literal('addTag'), tag: z.string() }),
  z.object({ trigger: z.enum(['replied', 'contacted', 'completed']), action: z.literal('assign') }),
]);

export const scenarioSchema = z.object({
  start: instant,
  until: instant,
  seed: z.number().int(),
  accounts: z
    .array(z.object({ username: z.string().min(1), hourlyLimit: z.number().int().min(1).optional(), dailyLimit: z.number().int().min(1).optional() }))
    .min(1),
  profiles: z.array(profileSchema).default([]),
  statuses: z.array(z.object({ name: z.string(), color: z.string().optional() })).default([]),
  tags: z.array(z.object({ name: z.string(), color: z.string().optional() })).default([]),
  lists: z.array(z.object({ name: z.string().min(1), platformIds: z.array(platformId) })).default([]),
  campaign: z.object({
    name: z.string().min(1),
    messagesPerHour: z.number().int().min(1).max(60).optional(),
    timezone: z.string().optional(),
    schedule: z.record(z.string(), z.object({ start: z.number(), end: z.number() })).optional(),
    sequence: z.object({ steps }),
    automations: z.array(automationSchema).default([]),
    columns: z.array(z.object({ name: z.string(), type: z.enum(['text', 'number', 'url', 'date']).default('text') })).default([]),
    rules: z
      .object({
        syncedListIds: z.array(z.string()).optional(),
        excludedListIds: z.array(z.string()).optional(),
        excludeContacted: z.boolean().optional(),
        excludeMutuals: z.boolean().optional(),
      })
      .optional(),
    leads: z
      .union([
        z.object({ platformIds: z.array(platformId).min(1) }),
        z.object({ count: z.number().int().min(1).max(1_000_000), firstId: platformId }),
      ])
      .optional(),
    enabled: z.boolean().default(true),
  }),
  events: z.array(eventSchema).default([]),
  replies: z
    .array(z.object({ from: platformId, afterStep: z.number().int().min(0), delaySeconds: z.number().min(0), content: z.string().min(1) }))
    .default([]),
});

export type Scenario = z.infer<typeof scenarioSchema>;

/** Parses a scenario, or throws a 400-style validation error naming every problem. */
export function parseScenario(input: unknown): Scenario {
  const parsed = scenarioSchema.safeParse(input);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => ({ field: i.path.join('.'), message: i.message }));
  if (parsed.success) {
    const { campaign, start, until } = parsed.data;
    if (campaign.timezone !== undefined) problems.push(...validateTimeZone(campaign.timezone, 'campaign.timezone'));
    if (campaign.schedule !== undefined) problems.push(...validateSchedule(campaign.schedule, 'campaign.schedule'));
    if (until <= start) problems.push({ field: 'until', message: 'must be after start' });
    problems.push(...fieldsWithNul(input).map((field) => ({ field, message: NUL_MESSAGE })));
  }
  if (problems.length > 0) throw invalidFields('scenario', problems);
  return parsed.data!;
}

class VirtualClock {
  constructor(private at: Date) {}
  now = () => new Date(this.at);
  set(at: Date) {
    this.at = at;
  }
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Ids shaped like cuid2 ones (a letter, then 23 of [a-z0-9]) drawn from the seed. */
function seededIds(random: Random): () => string {
  return () => {
    let id = ID_ALPHABET[random.int(26)]!;
    for (let i = 1; i < 24; i++) id += ID_ALPHABET[random.int(ID_ALPHABET.length)]!;
    return id;
  };
}

const leadIds = (leads: Scenario['campaign']['leads']): string[] =>
  !leads ? [] : 'platformIds' in leads ? leads.platformIds : Array.from({ length: leads.count }, (_, i) => (BigInt(leads.firstId) + BigInt(i)).toString());

interface World {
  ctx: AppContext;
  teamId: string;
  campaignId: string;
  accountIds: Map<string, string>;
}

function accountId(world: World, username: string): string {
  const id = world.accountIds.get(username);
  if (!id) throw new AppError(400, 'VALIDATION_ERROR', `The scenario names an account '${username}' it does not declare`);
  return id;
}

/**
 * Puts sandbox users into a campaign as direct leads, through the API's own use case: the lead rules decide each
 * (a profile with closed DMs is kept out as excluded, as `POST .../leads` would).
 */
export async function addSandboxLeads(ctx: AppContext, teamId: string, campaignId: string, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += MAX_LEADS_PER_ADD) {
    await addCampaignLeads(ctx, teamId, campaignId, ids.slice(i, i + MAX_LEADS_PER_ADD).map((value) => ({ ref: { by: 'platformId' as const, value } })));
  }
}

/** Runs background jobs (list syncs) until none is due. */
async function runJobs(jobs: JobRunner): Promise<void> {
  while ((await jobs.runOnce()) > 0);
}

async function setUp(ctx: AppContext, jobs: JobRunner, scenario: Scenario): Promise<World> {
  const now = scenario.start;
  const { team, owner } = await createTeam(ctx.db, 'Simulation', now);
  const accountIds = new Map<string, string>();
  for (const account of scenario.accounts) {
    const linked = await linkSandboxAccount(ctx, team.id, { username: account.username });
    await updateAccountLink(ctx, team.id, linked.id, { hourlyLimit: account.hourlyLimit, dailyLimit: account.dailyLimit });
    accountIds.set(account.username, linked.id);
  }
  for (const { platformId: id, ...fields } of scenario.profiles) await putSandboxProfile(ctx.db, id, fields, now);
  const statuses = new Map<string, string>();
  for (const s of scenario.statuses) statuses.set(s.name, (await createLabel(ctx, STATUS, team.id, s)).id);
  const tags = new Map<string, string>();
  for (const t of scenario.tags) tags.set(t.name, (await createLabel(ctx, TAG, team.id, t)).id);

  const lists = new Map<string, string>();
  for (const list of scenario.lists) {
    const created = await createList(ctx, team.id, { name: list.name });
    if (list.platformIds.length > 0) {
      await addListLeads(ctx, team.id, created.id, list.platformIds.map((id) => ({ ref: { by: 'platformId' as const, value: id } })));
    }
    lists.set(list.name, created.id);
  }

  const { campaign: spec } = scenario;
  const campaign = await createCampaign(ctx, team.id, {
    name: spec.name,
    messagesPerHour: spec.messagesPerHour,
    timezone: spec.timezone,
    schedule: spec.schedule as Schedule | undefined,
    accountLinkIds: [...accountIds.values()],
  });
  for (const column of spec.columns) await createColumn(ctx, CAMPAIGN_COLUMNS, team.id, campaign.id, column);
  await replaceSequence(ctx, team.id, campaign.id, spec.sequence.steps as SequenceStep[]);
  const named = (names: Map<string, string>, name: string, noun: string) => {
    const id = names.get(name);
    if (!id) throw new AppError(400, 'VALIDATION_ERROR', `The scenario's automations name a ${noun} '${name}' it does not declare`);
    return id;
  };
  const automations = spec.automations.map((a): AutomationInput => {
    switch (a.action) {
      case 'setStatus':
        return { trigger: a.trigger, action: 'setStatus', actionData: { statusId: named(statuses, a.status, 'status') } };
      case 'addTag':
        return { trigger: a.trigger, action: 'addTag', actionData: { tagId: named(tags, a.tag, 'tag') } };
      case 'assign':
        return { trigger: a.trigger, action: 'assign', actionData: { memberId: owner.id } };
    }
  });
  await replaceAutomations(ctx, team.id, campaign.id, automations);
  await addSandboxLeads(ctx, team.id, campaign.id, leadIds(spec.leads));
  if (spec.rules) {
    const { syncedListIds = [], excludedListIds = [], ...flags } = spec.rules;
    await updateLeadRules(ctx, team.id, campaign.id, {
      ...flags,
      syncedListIds: syncedListIds.map((name) => named(lists, name, 'list')),
      excludedListIds: excludedListIds.map((name) => named(lists, name, 'list')),
    });
    await runJobs(jobs);
  }
  if (spec.enabled) await enableCampaign(ctx, team.id, campaign.id);
  return { ctx, teamId: team.id, campaignId: campaign.id, accountIds };
}

type ScenarioEvent = Scenario['events'][number];

async function applyEvent(world: World, event: ScenarioEvent): Promise<void> {
  const { ctx, teamId, campaignId } = world;
  switch (event.type) {
    case 'inbound':
      await deliverSandboxDm(ctx, teamId, { accountLinkId: accountId(world, event.account), fromPlatformId: event.from, content: event.content });
      return;
    case 'accountStatus':
      await updateAccountLink(ctx, teamId, accountId(world, event.account), { status: event.status });
      return;
    case 'enable':
      await enableCampaign(ctx, teamId, campaignId);
      return;
    case 'disable':
      await disableCampaign(ctx, teamId, campaignId);
      return;
    case 'sequence':
      await replaceSequence(ctx, teamId, campaignId, event.steps as SequenceStep[]);
      return;
    case 'profile': {
      const { platformId: id, ...fields } = event.profile;
      await putSandboxProfile(ctx.db, id, fields, ctx.clock.now());
    }
  }
}

/** A reply the scenario's reply model has scheduled. */
interface DueReply {
  at: Date;
  accountLinkId: string;
  from: string;
  content: string;
}

/** Lifecycle refusals (enabling an active campaign, say) are part of a scenario's story, not a failure. */
async function tolerant(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (error) {
    if (!(error instanceof AppError) || error.status >= 500) throw error;
  }
}

/**
 * How far the engine may run ahead of `now` in one pass: up to just before the next scenario event or reply,
 * and, while the reply model may still answer, no further than its shortest delay (a reply always comes after
 * the send that prompts it, so nothing sent within that span can be answered within it).
 */
function quietUntil(now: Date, scenario: Scenario, events: readonly ScenarioEvent[], replies: readonly DueReply[], rules: Scenario['replies']): Date {
  const bounds = [scenario.until.getTime(), (events[0]?.at.getTime() ?? Infinity) - 1, (replies[0]?.at.getTime() ?? Infinity) - 1];
  if (rules.length > 0) bounds.push(now.getTime() + Math.min(...rules.map((r) => r.delaySeconds * 1000)) - 1);
  return new Date(Math.max(now.getTime(), Math.min(...bounds)));
}

export interface SimulateOptions {
  /**
   * One engine pass per instant, as in real time, instead of passes over quiet spans of virtual time. Slower;
   * the two give the same sends at the same instants (the tests check it).
   */
  stepwise?: boolean;
}

/** Runs a scenario, writing one JSON line per event and the summary line last. */
export async function simulate(scenario: Scenario, write: (line: string) => void, options: SimulateOptions = {}): Promise<void> {
  const store = await openScratchStore();
  try {
    const random = seededRandom(scenario.seed);
    await withIdGenerator(seededIds(random.derive('ids')), () => run(store.db, scenario, random, write, options));
  } finally {
    await store.close();
  }
}

async function run(db: Db, scenario: Scenario, random: Random, write: (line: string) => void, options: SimulateOptions): Promise<void> {
  const clock = new VirtualClock(scenario.start);
  const ctx: AppContext = { db, clock, config: loadConfig({}), logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(db, clock), leadWaits };
  const jobs = createJobRunner(ctx);
  const world = await setUp(ctx, jobs, scenario);
  const engine = sendingEngine(ctx, random.derive('engine'));
  const events = [...scenario.events].sort((a, b) => a.at.getTime() - b.at.getTime());
  const replyRules = [...scenario.replies];
  const replies: DueReply[] = [];
  let lastSeq = 0;

  const flush = async () => {
    for (const envelope of await eventsAfter(db, world.teamId, lastSeq)) {
      write(JSON.stringify(envelope));
      lastSeq = envelope.seq;
      scheduleReply(envelope);
    }
  };
  const scheduleReply = (envelope: EventEnvelope) => {
    if (!['target.contacted', 'target.followUpSent', 'target.liked'].includes(envelope.type)) return;
    const data = envelope.data as { step: { rank: number }; prospect: { platformId: string }; thread: { accountLinkId: string } };
    const index = replyRules.findIndex((r) => r.from === data.prospect.platformId && r.afterStep === data.step.rank);
    if (index < 0) return;
    const [rule] = replyRules.splice(index, 1);
    const at = new Date(new Date(envelope.timestamp).getTime() + rule!.delaySeconds * 1000);
    replies.push({ at, accountLinkId: data.thread.accountLinkId, from: rule!.from, content: rule!.content });
    replies.sort((a, b) => a.at.getTime() - b.at.getTime());
  };

  let now = scenario.start;
  for (;;) {
    clock.set(now);
    while (events[0] && events[0].at <= now) await tolerant(() => applyEvent(world, events.shift()!));
    while (replies[0] && replies[0].at <= now) {
      const reply = replies.shift()!;
      await tolerant(() => deliverSandboxDm(ctx, world.teamId, { accountLinkId: reply.accountLinkId, fromPlatformId: reply.from, content: reply.content }));
    }
    await runJobs(jobs);
    now = await engine.runUntil(now, options.stepwise ? now : quietUntil(now, scenario, events, replies, replyRules));
    clock.set(now);
    await flush();
    const candidates = [await nextEngineInstant(db, now), events[0]?.at, replies[0]?.at].filter((d): d is Date => d instanceof Date && d > now);
    if (candidates.length === 0) break;
    const next = new Date(Math.min(...candidates.map((d) => d.getTime())));
    if (next > scenario.until) break;
    now = next;
  }
  const [campaign, accountLinks] = await Promise.all([getCampaign(ctx, world.teamId, world.campaignId), listAccountLinks(ctx, world.teamId)]);
  write(JSON.stringify({ type: 'simulation.summary', data: { campaign, accountLinks } }));
}
