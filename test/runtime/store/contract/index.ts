import { admissionContract } from './admission.ts';
import { commitsContract } from './commits.ts';
import type { StoreHarness } from './harness.ts';
import { idempotencyContract } from './idempotency.ts';
import { inboxContract } from './inbox.ts';
import { leasesContract } from './leases.ts';
import { nodesContract } from './nodes.ts';
import { profilesContract } from './profiles.ts';
import { removalContract } from './removal.ts';
import { sessionsContract } from './sessions.ts';
import { timersContract } from './timers.ts';
import { usersContract } from './users.ts';
import { wakeUpsContract } from './wake-ups.ts';
import { workRecordsContract } from './work-records.ts';

/**
 * The store contract. Every adapter runs it from a three-line test file; the
 * runtime relies on exactly these semantics and nothing adapter-specific.
 *
 * One file per role of the port (`runtime/store/port.ts`), each registering
 * its tests under the same `describe`, `store contract: <adapter>`, with a new
 * harness for every test; the running limit has its own, `store admission
 * contract: <adapter>`. Shared helpers are in `helpers.ts`.
 */
export function storeContract(name: string, factory: () => Promise<StoreHarness>): void {
  sessionsContract(name, factory);
  inboxContract(name, factory);
  leasesContract(name, factory);
  commitsContract(name, factory);
  timersContract(name, factory);
  wakeUpsContract(name, factory);
  profilesContract(name, factory);
  workRecordsContract(name, factory);
  nodesContract(name, factory);
  usersContract(name, factory);
  idempotencyContract(name, factory);
  admissionContract(name, factory);
  removalContract(name, factory);
}
