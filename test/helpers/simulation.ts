import { parseScenario, simulate, type SimulateOptions } from '../../src/runtimes/simulation.js';

export interface SimEvent {
  seq: number;
  type: string;
  timestamp: string;
  data: any;
}

export interface SimResult {
  lines: string[];
  events: SimEvent[];
  summary: { campaign: any; accountLinks: any[] };
  /** the target.* events, with the lead's platform id and the step rank */
  targets: Array<{ type: string; at: Date; platformId: string; rank: number | undefined; accountLinkId: string; content?: string }>;
}

/** Runs a scenario (parsed exactly as `inbox simulate` parses its file) and splits its output. */
export async function runScenario(scenario: unknown, options: SimulateOptions = {}): Promise<SimResult> {
  const lines: string[] = [];
  await simulate(parseScenario(JSON.parse(JSON.stringify(scenario))), (line) => lines.push(line), options);
  const parsed = lines.map((l) => JSON.parse(l));
  const last = parsed.at(-1);
  const events = parsed.slice(0, -1) as SimEvent[];
  return {
    lines,
    events,
    summary: last.data,
    targets: events
      .filter((e) => e.type.startsWith('target.'))
      .map((e) => ({
        type: e.type,
        at: new Date(e.timestamp),
        platformId: e.data.prospect.platformId,
        rank: e.data.step?.rank,
        // target.failed names its account: a refused first message leaves no thread
        accountLinkId: e.data.thread?.accountLinkId ?? e.data.accountLinkId,
        content: e.data.message?.content,
      })),
  };
}

export const message = (text: string) => ({ type: 'message', data: { segments: [{ type: 'static', text }] } });
export const delay = (seconds: number) => ({ type: 'delay', data: { delaySeconds: seconds, unit: 'minutes' } });
export const like = { type: 'likeTweet' };
export const allWeek = Object.fromEntries(['0', '1', '2', '3', '4', '5', '6'].map((d) => [d, { start: 0, end: 1440 }]));
