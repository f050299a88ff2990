/** Rows grouped by key, with a group (maybe empty) for every key asked for, in the order asked. */
export function groupBy<T>(keys: readonly string[], rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map(keys.map((k) => [k, [] as T[]]));
  for (const row of rows) groups.get(key(row))!.push(row);
  return groups;
}
