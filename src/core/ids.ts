import { init } from '@paralleldrive/cuid2';

/** Inbox ids: 24-character lowercase cuid2 strings, matching ^[0-9a-z]+$. */
export const newId: () => string = init({ length: 24 });

export const ID_PATTERN = /^[0-9a-z]+$/;
