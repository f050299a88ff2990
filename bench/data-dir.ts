import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Runs `fn` with a new empty directory for an embedded store's data, removed after. */
export async function withDataDir<T>(prefix: string, fn: (dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    return await fn(dataDir);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
