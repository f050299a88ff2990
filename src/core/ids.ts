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

function timeOrderedId(): string {
  let id = Date.now().toString(36).padStart(TIME_LENGTH, '0');
  while (id.length < ID_LENGTH) id += randomCharacter();
  return id;
}

// A simulation replays byte for byte, so inside it ids come from its own seeded generator instead.
const scopedGenerator = new AsyncLocalStorage<() => string>();

export const newId = (): string => (scopedGenerator.getStore() ?? timeOrderedId)();

/** Runs `fn` with every newId() it causes (however deep, across awaits) drawn from `generate`. */
export const withIdGenerator = <T>(generate: () => string, fn: () => Promise<T>): Promise<T> => scopedGenerator.run(generate, fn);

export const ID_PATTERN = /^[0-9a-z]+$/;
