/** API timestamps: ISO-8601 UTC with milliseconds and Z. */
export const iso = (date: Date): string => date.toISOString();

export const isoOrNull = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);
