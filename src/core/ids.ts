import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';

/**
 * Inbox ids: 24 lowercase characters in the cuid2 shape (a letter, then base-36), matching ^[0-9a-z]+$.
 * They are 119 bits from the system CSPRNG. We measured @paralleldrive/cuid2 at about 0.3 ms an id (it
 * hashes each one with SHA-3 in JavaScript), which made bulk lead adds spend half their time on ids;
 * this takes about 0.005 ms.
 */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 24;
// Bytes at or above the largest multiple of 36 (resp. 26) are skipped so every character is uniform.
const BASE36_LIMIT = 252;
const LETTER_LIMIT = 234;

const pool = new Uint8Array(4096);
let poolIndex = pool.length;

function randomByte(): number {
  if (poolIndex === pool.length) {
    randomFillSync(pool);
    poolIndex = 0;
  }
  return pool[poolIndex++]!;
}

function uniform(limit: number, size: number): string {
  for (;;) {
    const byte = randomByte();
    if (byte < limit) return ALPHABET[byte % size]!;
  }
}

function randomId(): string {
  let id = uniform(LETTER_LIMIT, 26);
  while (id.length < ID_LENGTH) id += uniform(BASE36_LIMIT, 36);
  return id;
}

// A simulation replays byte for byte, so inside it ids come from its own seeded generator instead.
const scopedGenerator = new AsyncLocalStorage<() => string>();

export const newId = (): string => (scopedGenerator.getStore() ?? randomId)();

/** Runs `fn` with every newId() it causes (however deep, across awaits) drawn from `generate`. */
export const withIdGenerator = <T>(generate: () => string, fn: () => Promise<T>): Promise<T> => scopedGenerator.run(generate, fn);

export const ID_PATTERN = /^[0-9a-z]+$/;
