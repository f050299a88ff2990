import { seededRandom } from './random.js';
import { builtinVariables, renderMessage, type ProfileForVariables, type Segment } from './sequence.js';

/** The profile fields a prospect's messages draw their variables from: the preview and the engine's sends alike. */
export const profileForVariables = (row: { display_name: string | null; username: string; bio: string | null; location: string | null }): ProfileForVariables => ({
  displayName: row.display_name,
  username: row.username,
  bio: row.bio,
  location: row.location,
});

/** A lead's variables: its profile's built-ins and its column values (keyed by column id, `custom_...`). */
export function leadVariables(profile: ProfileForVariables, data: Readonly<Record<string, unknown>>): Record<string, string> {
  const columns = Object.entries(data).flatMap(([id, value]) =>
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? [[id, String(value)]] : [],
  );
  return { ...builtinVariables(profile), ...Object.fromEntries(columns) };
}

/** A rendered message and, for each variation segment in order, the index of the option it took. */
export interface RenderedMessage {
  text: string;
  variationPicks: number[];
}

/**
 * The text of one message step for one lead. Variations are picked from a stream named by campaign, lead and
 * step, so a preview shows what will be sent and a resend after a crash sends the same words. The picks are
 * returned too: the send log keeps them so results can be counted per variation.
 */
export function renderLeadMessage(
  campaignId: string,
  leadKey: string,
  stepId: string,
  segments: readonly Segment[],
  variables: Readonly<Record<string, string>>,
): RenderedMessage {
  const random = seededRandom(campaignId).derive(`${leadKey}:${stepId}`);
  const variationPicks: number[] = [];
  const text = renderMessage(segments, variables, (count) => {
    const index = random.int(count);
    variationPicks.push(index);
    return index;
  });
  return { text, variationPicks };
}

export const leadMessage = (...args: Parameters<typeof renderLeadMessage>): string => renderLeadMessage(...args).text;
