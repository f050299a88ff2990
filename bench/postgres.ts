import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const script = path.resolve(import.meta.dirname, '../scripts/pg-cluster.sh');

/** Runs `fn` against DATABASE_URL, or else against a private PostgreSQL cluster started for it and removed after. */
export async function withPostgres<T>(fn: (url: string) => Promise<T>): Promise<T> {
  if (process.env.DATABASE_URL) return fn(process.env.DATABASE_URL);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-bench-pg-'));
  try {
    const exports = execFileSync('bash', [script, 'start', dir], { encoding: 'utf8' });
    return await fn(/DATABASE_URL=(\S+)/.exec(exports)![1]!);
  } finally {
    execFileSync('bash', [script, 'stop', dir]);
  }
}
