import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { dumpOfMigratedStore, migrateToLatest, openStore } from '../src/store/db.js';
import { TEST_DATABASE_PREFIX } from './helpers/fresh-store.js';
import { buildWeb } from '../scripts/build-web.mjs';
import { compileSources } from './helpers/compiled.js';

let dumpDir: string | undefined;
let compiledRoot: string | undefined;

/**
 * Migrates one store for the whole run, before any worker starts: a PGlite dumped to a file (PGlite pass), or
 * a template database on the server of DATABASE_URL (PostgreSQL pass). Every store a test opens is a copy of it
 * (test/helpers/fresh-store.ts), so no test pays for starting the store from nothing.
 */
export async function setup(project: TestProject): Promise<void> {
  // The browser tests load the page from dist/web: build it from the current sources first.
  await buildWeb({ quiet: true });
  // The processes the tests spawn (the CLI, workers) run these compiled sources.
  compiledRoot = await compileSources();
  project.provide('compiledRoot', compiledRoot);
  const server = process.env.DATABASE_URL;
  if (!server) {
    dumpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'inbox-test-'));
    const file = path.join(dumpDir, 'migrated.tar');
    fs.writeFileSync(file, Buffer.from(await (await dumpOfMigratedStore()).arrayBuffer()));
    project.provide('migratedDumpFile', file);
    project.provide('migratedTemplateDatabase', null);
    return;
  }
  const template = `${TEST_DATABASE_PREFIX}template_${process.pid}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`create database ${template}`);
  } finally {
    await admin.end();
  }
  const url = new URL(server);
  url.pathname = `/${template}`;
  const store = await openStore({ kind: 'postgres', url: url.toString(), poolSize: 1 });
  try {
    await migrateToLatest(store.db);
  } finally {
    await store.close();
  }
  project.provide('migratedDumpFile', null);
  project.provide('migratedTemplateDatabase', template);
}

/** After the PostgreSQL pass, drops the databases the test workers created (a worker's shared one is never closed). */
export async function teardown(): Promise<void> {
  for (const dir of [dumpDir, compiledRoot]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
  const server = process.env.DATABASE_URL;
  if (!server) return;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${TEST_DATABASE_PREFIX}%`]);
    for (const { datname } of rows) await admin.query(`drop database if exists ${datname} with (force)`);
  } finally {
    await admin.end();
  }
}
