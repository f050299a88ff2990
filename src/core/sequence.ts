import type { Problem } from './schedule.js';

/**
 * Campaign sequences (spec 4.13): the steps a lead goes through, and the rendering of a message for one lead.
 *
 * Validation rules (what "a valid sequence" means for PUT sequence and for enabling a campaign):
 * - at least one message step; every message has at least one segment and is not only blank static text;
 * - every variable is a built-in (BUILTIN_VARIABLES) or the id of an existing campaign column (`custom_...`);
 * - every variation has at least one option and no option is the empty string;
 * - a delay is a whole number of seconds from 60 (one minute: shorter waits are not a follow-up) to 7,776,000
 *   (90 days: longer ones are almost surely a typo), with `unit` one of minutes | hours | days (display only).
 */

export type Segment =
  | { type: 'static'; text: string }
  | { type: 'variable'; name: string; fallback?: string }
  | { type: 'variation'; options: string[] };

export const DELAY_UNITS = ['minutes', 'hours', 'days'] as const;
export type DelayUnit = (typeof DELAY_UNITS)[number];

export type SequenceStep =
  | { type: 'message'; data: { segments: Segment[] } }
  | { type: 'delay'; data: { delaySeconds: number; unit: DelayUnit } }
  | { type: 'likeTweet'; data?: Record<string, never> };

/** A step as stored and shown: the input step plus the id and rank the server gave it. */
export type StoredStep = SequenceStep & { id: string; rank: number; data: object };

export const BUILTIN_VARIABLES = ['first-name', 'last-name', 'display-name', 'username', 'location', 'bio'] as const;
export type BuiltinVariable = (typeof BUILTIN_VARIABLES)[number];

export const MIN_DELAY_SECONDS = 60;
export const MAX_DELAY_SECONDS = 90 * 86_400;

const isBlank = (text: string | null | undefined) => !text || text.trim() === '';

function variableProblem(name: string, knownColumnIds: ReadonlySet<string>): string | undefined {
  if ((BUILTIN_VARIABLES as readonly string[]).includes(name) || knownColumnIds.has(name)) return undefined;
  if (name.startsWith('custom_')) return `no campaign column '${name}': create it first`;
  return `unknown variable '${name}': use ${BUILTIN_VARIABLES.join(', ')} or a campaign column id (custom_...)`;
}

function segmentProblems(segment: Segment, knownColumnIds: ReadonlySet<string>, field: string): Problem[] {
  switch (segment.type) {
    case 'static':
      return [];
    case 'variable': {
      const message = variableProblem(segment.name, knownColumnIds);
      return message ? [{ field: `${field}.name`, message }] : [];
    }
    case 'variation':
      if (segment.options.length === 0) {
        return [{ field: `${field}.options`, message: 'a variation needs at least one option' }];
      }
      return segment.options.flatMap((option, index) =>
        option === '' ? [{ field: `${field}.options.${index}`, message: 'an option must not be empty' }] : [],
      );
  }
}

function messageProblems(segments: readonly Segment[], knownColumnIds: ReadonlySet<string>, field: string): Problem[] {
  if (segments.length === 0) return [{ field, message: 'a message needs at least one segment' }];
  const problems = segments.flatMap((segment, index) => segmentProblems(segment, knownColumnIds, `${field}.${index}`));
  if (segments.every((segment) => segment.type === 'static' && isBlank(segment.text))) {
    problems.push({ field, message: 'a message must contain some text' });
  }
  return problems;
}

function delayProblems({ delaySeconds, unit }: { delaySeconds: number; unit: string }, field: string): Problem[] {
  const problems: Problem[] = [];
  if (!Number.isInteger(delaySeconds) || delaySeconds < MIN_DELAY_SECONDS || delaySeconds > MAX_DELAY_SECONDS) {
    problems.push({
      field: `${field}.delaySeconds`,
      message: `must be a whole number of seconds from ${MIN_DELAY_SECONDS} (1 minute) to ${MAX_DELAY_SECONDS} (90 days)`,
    });
  }
  if (!(DELAY_UNITS as readonly string[]).includes(unit)) {
    problems.push({ field: `${field}.unit`, message: `must be one of ${DELAY_UNITS.join(', ')}` });
  }
  return problems;
}

/** Every problem with a sequence; empty when it may be saved and sent. `field` prefixes each problem's field. */
export function validateSequence(
  steps: readonly SequenceStep[],
  knownColumnIds: Iterable<string>,
  field = 'steps',
): Problem[] {
  const columns = new Set(knownColumnIds);
  const problems = steps.flatMap((step, index): Problem[] => {
    const where = `${field}.${index}.data`;
    switch (step.type) {
      case 'message':
        return messageProblems(step.data.segments, columns, `${where}.segments`);
      case 'delay':
        return delayProblems(step.data, where);
      case 'likeTweet':
        return [];
    }
  });
  if (!steps.some((step) => step.type === 'message')) {
    problems.unshift({ field, message: 'the sequence needs at least one message step' });
  }
  return problems;
}

/** The variable names a sequence uses, for refusing to delete a campaign column still in use. */
export function variablesUsed(steps: readonly SequenceStep[]): Set<string> {
  return new Set(
    steps.flatMap((step) =>
      step.type === 'message'
        ? step.data.segments.flatMap((segment) => (segment.type === 'variable' ? [segment.name] : []))
        : [],
    ),
  );
}

/**
 * The text of a message for one lead: the segments concatenated exactly, with each variable's value (trimmed)
 * or, when that is missing or blank, its fallback (none = empty), and one option of each variation chosen by
 * `pick(optionCount)`. The engine passes a stream derived from lead and step, so a lead always gets the same text.
 */
export function renderMessage(
  segments: readonly Segment[],
  variables: Readonly<Record<string, string | null | undefined>>,
  pick: (optionCount: number) => number,
): string {
  return segments
    .map((segment) => {
      switch (segment.type) {
        case 'static':
          return segment.text;
        case 'variable': {
          const value = variables[segment.name];
          return isBlank(value) ? (segment.fallback ?? '') : value!.trim();
        }
        case 'variation': {
          const index = pick(segment.options.length);
          const option = segment.options[index];
          if (option === undefined) throw new RangeError(`pick gave ${index} for ${segment.options.length} options`);
          return option;
        }
      }
    })
    .join('');
}

export interface ProfileForVariables {
  displayName: string | null;
  username: string;
  bio: string | null;
  location: string | null;
}

// Emoji, their modifiers and joiners, and flag letters: decoration in display names, not part of a name.
const EMOJI = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\u200d\ufe0f\u20e3]/gu;
// What people put after their name: "Jane Doe | Founder", "Jane Doe - CEO", "Jane (she/her)", "Jane @ Acme".
const AFTER_NAME = /\s[-–—]\s|[|•·,;:/(\[{@#]/u;

const tidy = (text: string | null) => (text ?? '').replace(/\s+/gu, ' ').trim();

/**
 * The built-in variables of a prospect. first-name is the first word of the display name and last-name the
 * rest, both without emoji and without what follows a separator such as "|", " - ", "," or "(".
 * Missing values are empty strings, so a message's fallback applies.
 */
export function builtinVariables(profile: ProfileForVariables): Record<BuiltinVariable, string> {
  const displayName = tidy(profile.displayName);
  const name = tidy(displayName.replace(EMOJI, ' ').split(AFTER_NAME)[0]!);
  const [first = '', ...rest] = name === '' ? [] : name.split(' ');
  return {
    'first-name': first,
    'last-name': rest.join(' '),
    'display-name': displayName,
    username: profile.username.replace(/^@/, ''),
    location: tidy(profile.location),
    bio: profile.bio?.trim() ?? '',
  };
}
