// Runs one push against a directory store in a child process, slowly (a delay before every put), so the kill -9
// test can kill it midway. Arguments: STORE_DIR SNAPSHOT_DIR PUT_DELAY_MS. Prints the result as JSON when done.
import { pushSnapshot } from '../../src/store/push.ts';
import { TestDirStore } from './dir-store.ts';

const [storeDir, snapshotDir, delayMs] = process.argv.slice(2) as [string, string, string];
const store = new TestDirStore(storeDir);
store.putDelayMs = Number(delayMs);
const result = await pushSnapshot(store, snapshotDir, { concurrency: 1 });
process.stdout.write(`${JSON.stringify(result)}\n`);
