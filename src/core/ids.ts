import { AsyncLocalStorage } from 'node:async_hooks';
import { init } from '@paralleldrive/cuid2';

/** Inbox ids: 24-character lowercase cuid2 strings, matching ^[0-9a-z]+$. */
const randomId: () => string = init({ length: 24 });

// A simulation replays byte for byte, so inside it ids come from its own seeded generator instead.
const scopedGenerator = new AsyncLocalStorage<() => string>();

export const newId = (): string => (scopedGenerator.getStore() ?? randomId)();

/** Runs `fn` with every newId() it causes (however deep, across awaits) drawn from `generate`. */
export const withIdGenerator = <T>(generate: () => string, fn: () => Promise<T>): Promise<T> => scopedGenerator.run(generate, fn);

export const ID_PATTERN = /^[0-9a-z]+$/;
