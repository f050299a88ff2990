import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';

/**
 * Inbox ids: 24 lowercase characters in the cuid2 shape (a letter, then base-36), matching ^[0-9a-z]+$.
 * The first 8 are the creation time in milliseconds (base 36; its first digit is a letter from 1994 to 2059),
 * the other 16 are 82 bits from the system CSPRNG. The time prefix makes ids made together sort together, so
 * a table's primary-key index grows at its right edge: with random ids, every insert into a large table
 * touched a random leaf page, which at 100,000 leads no longer stayed in the buffers (bench:engine).
 * We measured @paralleldrive/cuid2 at about 0.3 ms an id (it hashes each one with SHA-3 in JavaScript), which
 * made bulk lead adds spend half their time on ids; this takes about 0.005 ms.
 */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 24;
const TIME_LENGTH = 8;
// Bytes at or above the largest multiple of 36 are skipped so every character is uniform.
const BASE36_LIMIT = 252;

const pool = new Uint8Array(4096);
let poolIndex = pool.length;

function randomByte(): number {
  if (poolIndex === pool.length) {
    randomFillSync(pool);
    poolIndex = 0;
  }
  return pool[poolIndex++]!;
}

function randomCharacter(): string {
  for (;;) {
    const byte = randomByte();
    if (byte < BASE36_LIMIT) return ALPHABET[byte % 36]!;
  }
}

let lastTime = '';
let lastRest = '';

// The characters in the order strings of them sort (the drawing alphabet above is in another order).
const SORTED = '0123456789abcdefghijklmnopqrstuvwxyz';

/** The string that sorts right after `rest` among strings of its length, counting up as an odometer does. */
function increment(rest: string): string {
  const digits = [...rest];
  for (let i = digits.length - 1; i >= 0; i--) {
    const next = SORTED.indexOf(digits[i]!) + 1;
    if (next < SORTED.length) {
      digits[i] = SORTED[next]!;
      return digits.join('');
    }
    digits[i] = SORTED[0]!;
  }
  return digits.join('');
}

/**
 * Monotonic within the process (as ULID's monotonic mode): the first id of a millisecond draws its rest at random,
 * the next ones of the same millisecond count up from it. So ids made one after the other sort in the order they
 * were made, even in one batch: rows created together (the leads of one add) keep that order wherever ids break
 * ties, as the engine's queue does.
 */
function timeOrderedId(): string {
  const time = Date.now().toString(36).padStart(TIME_LENGTH, '0');
  if (time > lastTime) {
    lastTime = time;
    lastRest = '';
    while (lastRest.length < ID_LENGTH - TIME_LENGTH) lastRest += randomCharacter();
  } else {
    lastRest = increment(lastRest);
  }
  return lastTime + lastRest;
}

// A simulation replays byte for byte, so inside it ids come from its own seeded generator instead.
const scopedGenerator = new AsyncLocalStorage<() => string>();

export const newId = (): string => (scopedGenerator.getStore() ?? timeOrderedId)();

/** Runs `fn` with every newId() it causes (however deep, across awaits) drawn from `generate`. */
export const withIdGenerator = <T>(generate: () => string, fn: () => Promise<T>): Promise<T> => scopedGenerator.run(generate, fn);

export const ID_PATTERN = /^[0-9a-z]+$/;
