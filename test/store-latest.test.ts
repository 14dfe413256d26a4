// The store's "latest" (restore --from-store, hydrate) never hands out a snapshot named in the future: one pushed
// while a clock ran ahead would otherwise be the newest backup for as long as it is kept.
import { describe, expect, it } from 'vitest';
import { resolveStoredSnapshot } from '../src/store/catalog.ts';
import { manifestKey } from '../src/store/format.ts';
import { LocalDirStore } from '../src/store/local-store.ts';
import { makeTempDir } from './helpers/git-fixtures.ts';

describe('the store\'s latest snapshot', () => {
  it('skips names in the future, and says so when nothing else is there', async () => {
    const store = new LocalDirStore(makeTempDir('gpb-store-latest-'));
    const manifest = (name: string) => store.putOnce(manifestKey('acme/widgets', name), Buffer.from('{}'));
    await manifest('snapshot-20261130-020000');
    await manifest('snapshot-20261201-020000');
    await manifest('snapshot-20991201-020000');
    const now = new Date('2026-12-01T03:00:00Z');
    expect((await resolveStoredSnapshot(store, 'acme/widgets', 'latest', now)).snapshot).toBe('snapshot-20261201-020000');
    // Named explicitly, it is still there to be restored on purpose.
    expect((await resolveStoredSnapshot(store, 'acme/widgets', 'snapshot-20991201-020000', now)).snapshot).toBe('snapshot-20991201-020000');
    await expect(resolveStoredSnapshot(store, 'acme/widgets', 'latest', new Date('2026-01-01T00:00:00Z'))).rejects.toThrow(/all named in the future.*name one explicitly/);
  });
});
