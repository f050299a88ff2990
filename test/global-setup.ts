import pg from 'pg';
import { TEST_DATABASE_PREFIX } from './helpers/fresh-store.js';

/** After the PostgreSQL pass, drops the databases the test workers created (a worker's shared one is never closed). */
export async function teardown(): Promise<void> {
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
