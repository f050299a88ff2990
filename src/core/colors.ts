/** The palette offered for tags and statuses (Tailwind 500 shades), by name. */
export const COLORS: ReadonlyArray<{ name: string; hex: string }> = [
  { name: 'red', hex: '#ef4444' },
  { name: 'orange', hex: '#f97316' },
  { name: 'amber', hex: '#f59e0b' },
  { name: 'yellow', hex: '#eab308' },
  { name: 'lime', hex: '#84cc16' },
  { name: 'green', hex: '#22c55e' },
  { name: 'emerald', hex: '#10b981' },
  { name: 'teal', hex: '#14b8a6' },
  { name: 'cyan', hex: '#06b6d4' },
  { name: 'sky', hex: '#0ea5e9' },
  { name: 'blue', hex: '#3b82f6' },
  { name: 'indigo', hex: '#6366f1' },
  { name: 'violet', hex: '#8b5cf6' },
  { name: 'purple', hex: '#a855f7' },
  { name: 'fuchsia', hex: '#d946ef' },
  { name: 'pink', hex: '#ec4899' },
  { name: 'rose', hex: '#f43f5e' },
  { name: 'gray', hex: '#6b7280' },
];

/** The color a label gets when none is given. */
export const DEFAULT_COLOR_HEX = '#6b7280';

const HEX_PATTERN = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;

/**
 * Resolves a color given by palette name or hex code to a lowercase 6-digit hex code,
 * or undefined when it is neither.
 */
export function resolveColor(input: string): string | undefined {
  const value = input.trim().toLowerCase();
  const named = COLORS.find((c) => c.name === value);
  if (named) return named.hex;
  if (!HEX_PATTERN.test(value)) return undefined;
  if (value.length === 4) return `#${[...value.slice(1)].map((d) => d + d).join('')}`;
  return value;
}
