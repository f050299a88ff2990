import { afterEach } from 'vitest';
import { expectLeadCountsAgree, openTestStores } from './helpers/fresh-store.js';

// After every test, on every store the tests opened and still hold (the shared one among them), the lead counts
// kept by the store equal a recount of its leads (stores are checked once more when they are closed).
afterEach(async () => {
  for (const store of openTestStores) await expectLeadCountsAgree(store.db);
});
