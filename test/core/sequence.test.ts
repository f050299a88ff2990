import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.js';
import type { Segment, SequenceStep } from '../../src/core/sequence.js';
import {
  MAX_DELAY_SECONDS,
  MIN_DELAY_SECONDS,
  builtinVariables,
  renderMessage,
  validateSequence,
  variablesUsed,
} from '../../src/core/sequence.js';

const COLUMN = 'custom_q5cktl47a6pqa74eu06fz89v';

/** The example sequence of spec 3.13. */
const SPEC_EXAMPLE: SequenceStep[] = [
  {
    type: 'message',
    data: {
      segments: [
        { type: 'variation', options: ['Hey', 'Hi', "What's up"] },
        { type: 'static', text: ' ' },
        { type: 'variable', name: 'first-name', fallback: 'there' },
        { type: 'static', text: ', saw your work at ' },
        { type: 'variable', name: COLUMN, fallback: 'your company' },
        { type: 'static', text: ' — would love to connect. Open to a quick chat?' },
      ],
    },
  },
  { type: 'delay', data: { delaySeconds: 86400, unit: 'days' } },
  { type: 'message', data: { segments: [{ type: 'static', text: 'Hey, just following up!' }] } },
];

const message = (...segments: Segment[]): SequenceStep => ({ type: 'message', data: { segments } });
const hello = message({ type: 'static', text: 'Hello' });

describe('validateSequence', () => {
  it('accepts the spec example when its column exists, with likes and a trailing delay', () => {
    const steps: SequenceStep[] = [...SPEC_EXAMPLE, { type: 'likeTweet' }, { type: 'delay', data: { delaySeconds: 60, unit: 'minutes' } }];
    expect(validateSequence(steps, [COLUMN])).toEqual([]);
  });

  it('needs at least one message step', () => {
    expect(validateSequence([], [])).toEqual([{ field: 'steps', message: 'the sequence needs at least one message step' }]);
    expect(validateSequence([{ type: 'likeTweet' }], [])).toEqual([
      { field: 'steps', message: 'the sequence needs at least one message step' },
    ]);
  });

  it('reports every problem at once, with field paths', () => {
    const steps: SequenceStep[] = [
      message(
        { type: 'variable', name: 'first-name' },
        { type: 'variable', name: 'company' },
        { type: 'variable', name: COLUMN },
        { type: 'variation', options: [] },
        { type: 'variation', options: ['Hi', ''] },
      ),
      { type: 'delay', data: { delaySeconds: 59, unit: 'days' } },
      { type: 'delay', data: { delaySeconds: MAX_DELAY_SECONDS + 1, unit: 'weeks' as never } },
      { type: 'delay', data: { delaySeconds: 90.5, unit: 'minutes' } },
      message(),
      message({ type: 'static', text: '  ' }),
    ];
    expect(validateSequence(steps, [], 'body.steps')).toEqual([
      { field: 'body.steps.0.data.segments.1.name', message: expect.stringContaining("unknown variable 'company'") },
      { field: 'body.steps.0.data.segments.2.name', message: `no campaign column '${COLUMN}': create it first` },
      { field: 'body.steps.0.data.segments.3.options', message: 'a variation needs at least one option' },
      { field: 'body.steps.0.data.segments.4.options.1', message: 'an option must not be empty' },
      { field: 'body.steps.1.data.delaySeconds', message: expect.stringContaining('from 60 (1 minute) to 7776000') },
      { field: 'body.steps.2.data.delaySeconds', message: expect.any(String) },
      { field: 'body.steps.2.data.unit', message: 'must be one of minutes, hours, days' },
      { field: 'body.steps.3.data.delaySeconds', message: expect.any(String) },
      { field: 'body.steps.4.data.segments', message: 'a message needs at least one segment' },
      { field: 'body.steps.5.data.segments', message: 'a message must contain some text' },
    ]);
  });

  it('accepts the delay bounds themselves', () => {
    for (const delaySeconds of [MIN_DELAY_SECONDS, MAX_DELAY_SECONDS]) {
      expect(validateSequence([hello, { type: 'delay', data: { delaySeconds, unit: 'days' } }], [])).toEqual([]);
    }
  });

  it('lists the variables a sequence uses', () => {
    expect(variablesUsed(SPEC_EXAMPLE)).toEqual(new Set(['first-name', COLUMN]));
  });
});

describe('renderMessage', () => {
  const segments = (SPEC_EXAMPLE[0] as Extract<SequenceStep, { type: 'message' }>).data.segments;

  it('renders the spec example with the chosen variation and the values', () => {
    expect(renderMessage(segments, { 'first-name': 'Jane', [COLUMN]: 'Acme' }, () => 1)).toBe(
      'Hi Jane, saw your work at Acme — would love to connect. Open to a quick chat?',
    );
  });

  it.each([
    ['missing', {}],
    ['null', { 'first-name': null, [COLUMN]: null }],
    ['empty', { 'first-name': '', [COLUMN]: '' }],
    ['blank', { 'first-name': ' \t\n', [COLUMN]: '  ' }],
  ])('uses the fallback when a value is %s', (_label, variables) => {
    expect(renderMessage(segments, variables, () => 0)).toBe(
      'Hey there, saw your work at your company — would love to connect. Open to a quick chat?',
    );
  });

  it('renders nothing for a blank value without fallback or with an empty one, and trims values', () => {
    const greeting: Segment[] = [
      { type: 'static', text: 'Hi' },
      { type: 'variable', name: 'first-name' },
      { type: 'variable', name: 'last-name', fallback: '' },
      { type: 'static', text: '!' },
    ];
    expect(renderMessage(greeting, {}, () => 0)).toBe('Hi!');
    expect(renderMessage(greeting, { 'first-name': '  Jane ' }, () => 0)).toBe('HiJane!');
  });

  it('refuses a pick outside the options', () => {
    expect(() => renderMessage(segments, {}, () => 3)).toThrow(RangeError);
  });

  it('gives a lead the same text every time through a stream derived from lead and step', () => {
    const root = seededRandom(2026);
    const render = (key: string) => {
      const stream = root.derive(key);
      return renderMessage(segments, { 'first-name': 'Jane' }, (n) => stream.int(n));
    };
    expect(render('lead1:step1')).toBe(render('lead1:step1'));
    const openings = new Set(Array.from({ length: 60 }, (_, i) => render(`lead${i}:step1`).split(' ')[0]));
    expect(openings).toEqual(new Set(['Hey', 'Hi', 'What\'s']));
  });

  it('renders static text as written and one option of each variation, in order (property)', () => {
    const segment: fc.Arbitrary<Exclude<Segment, { type: 'variable' }>> = fc.oneof(
      fc.record({ type: fc.constant('static' as const), text: fc.string() }),
      fc.record({ type: fc.constant('variation' as const), options: fc.array(fc.string({ minLength: 1 }), { minLength: 1 }) }),
    );
    fc.assert(
      fc.property(fc.array(segment), fc.integer(), (parts, seed) => {
        const random = seededRandom(seed);
        const replay = seededRandom(seed);
        const expected = parts.map((part) =>
          part.type === 'static' ? part.text : part.options[replay.int(part.options.length)]!,
        );
        expect(renderMessage(parts, {}, (n) => random.int(n))).toBe(expected.join(''));
      }),
      { numRuns: 200 },
    );
  });
});

describe('builtinVariables', () => {
  const profile = (displayName: string | null) => ({ displayName, username: 'jane_doe', bio: null, location: null });
  const names = (displayName: string | null) => {
    const variables = builtinVariables(profile(displayName));
    return [variables['first-name'], variables['last-name']];
  };

  it.each([
    ['Jane Doe', 'Jane', 'Doe'],
    ['  Jane   van der  Berg ', 'Jane', 'van der Berg'],
    ['Madonna', 'Madonna', ''],
    ['🚀 Jane Doe 🚀', 'Jane', 'Doe'],
    ['Jane👩🏽‍💻 Doe', 'Jane', 'Doe'],
    ['Jane Doe 🇫🇷', 'Jane', 'Doe'],
    ['Jane Doe | Founder @ Acme', 'Jane', 'Doe'],
    ['Jane Doe - CEO', 'Jane', 'Doe'],
    ['Jean-Luc Picard', 'Jean-Luc', 'Picard'],
    ['Jane (she/her)', 'Jane', ''],
    ['Jane Doe, PhD', 'Jane', 'Doe'],
    ['José Álvarez', 'José', 'Álvarez'],
    ['山田 太郎', '山田', '太郎'],
    ['🔥🔥🔥', '', ''],
    ['', '', ''],
    [null, '', ''],
  ])('splits %j into %j and %j', (displayName, first, last) => {
    expect(names(displayName)).toEqual([first, last]);
  });

  it('keeps the display name as written (whitespace tidied), strips @ from the username and blanks missing fields', () => {
    expect(
      builtinVariables({ displayName: ' 🚀  Jane Doe ', username: '@jane_doe', bio: '  Builder.\nFounder. ', location: null }),
    ).toEqual({
      'first-name': 'Jane',
      'last-name': 'Doe',
      'display-name': '🚀 Jane Doe',
      username: 'jane_doe',
      location: '',
      bio: 'Builder.\nFounder.',
    });
  });
});
