/**
 * Seeded randomness for the engine and simulations: the same seed gives the same numbers on every run and
 * platform. `derive(key)` opens an independent stream named by a key (for example `leadId:stepId`), so a choice
 * made for that key does not depend on how many numbers were drawn before it.
 *
 * The generator is sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state), seeded from
 * the cyrb128 hash of the stream's name. Not for secrets.
 */
export interface Random {
  /** a number in [0, 1) */
  next(): number;
  /** a whole number in [0, n) */
  int(n: number): number;
  /** an independent stream for `key`, the same every time for this stream and key */
  derive(key: string): Random;
}

/** cyrb128: four 32-bit hashes of a string, used as generator state. */
function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ code, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ code, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ code, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ code, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

function sfc32([seedA, seedB, seedC, seedD]: [number, number, number, number]): () => number {
  let [a, b, c, d] = [seedA, seedB, seedC, seedD];
  return () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** The first outputs of sfc32 still echo the seed; discarding a few is the usual warm-up. */
const WARM_UP_DRAWS = 12;

function streamNamed(name: string): Random {
  const draw = sfc32(hash128(name));
  for (let i = 0; i < WARM_UP_DRAWS; i++) draw();
  return {
    next: draw,
    int(n: number) {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`int(n) needs a whole number n >= 1, got ${n}`);
      return Math.floor(draw() * n);
    },
    // JSON keeps names unambiguous: ("a:b", "c") and ("a", "b:c") name different streams.
    derive: (key: string) => streamNamed(JSON.stringify([name, key])),
  };
}

/** A seeded random stream; the same seed always gives the same sequence. */
export function seededRandom(seed: number | string): Random {
  return streamNamed(JSON.stringify(seed));
}
