// Writes dist/prepared-store.tar.gz: a migrated PGlite that a new data directory, a simulation or a forecast
// starts from instead of running initdb and every migration (see PREPARED_STORE_FILE in src/store/db.ts).
// Runs after `tsc` in the prepare script, from the compiled program.
import { PREPARED_STORE_FILE, writePreparedStore } from '../dist/store/db.js';

const started = Date.now();
await writePreparedStore(PREPARED_STORE_FILE);
console.log(`prepared store written in ${((Date.now() - started) / 1000).toFixed(1)} s`);
