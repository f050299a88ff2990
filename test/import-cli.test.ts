import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createList } from '../src/app/lists/lists.js';
import { createColumn, LIST_COLUMNS } from '../src/app/leads/columns.js';
import { systemClock } from '../src/core/clock.js';
import { loadConfig } from '../src/config.js';
import { createPlatformRegistry } from '../src/platforms/registry.js';
import { migrateToLatest, openStore } from '../src/store/db.js';
import { leadWaits } from '../src/engine/lead-waits.js';
import { compiledCli } from './helpers/compiled.js';

const root = path.resolve(import.meta.dirname, '..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function inbox(args: string[], dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [compiledCli(), ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', INBOX_DATA_DIR: dataDir },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('inbox import', () => {
  it('imports a CSV file into a list through the same use cases, with a progress bar on stderr', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-import-'));
    dirs.push(dir);
    const teamId = (await inbox(['team', 'create', 'Importers'], dir)).stdout.trim();
    // A list with a column, made directly in the store the CLI will open.
    const store = await openStore({ kind: 'pglite', dataDir: dir });
    await migrateToLatest(store.db);
    const ctx = { db: store.db, clock: systemClock, config: loadConfig({}), logger: pino({ level: 'silent' }), platforms: createPlatformRegistry(store.db), leadWaits };
    const list = await createList(ctx, teamId, { name: 'From CSV' });
    const column = await createColumn(ctx, LIST_COLUMNS, teamId, list.id, { name: 'Company' });
    await store.close();

    const file = path.join(dir, 'leads.csv');
    const rows = Array.from({ length: 2_500 }, (_, i) => `${7_000_000_000 + i},Company ${i}`);
    fs.writeFileSync(file, ['uid,company', ...rows, ',no id'].join('\n'));
    const result = await inbox(['import', file, '--list', list.id, '--id-column', 'uid', '--map', `company=${column.id}`], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^[0-9a-z]+\tcompleted\tadded 2500\tskipped 0\tfailed 1\n$/);
    expect(result.stderr).toContain('2501/2501 rows');
    expect(result.stderr).toContain('row 2501: missing X user id');

    const bad = await inbox(['import', file, '--list', list.id], dir);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Give one of --id-column and --username-column');
  }, 120_000);
});
