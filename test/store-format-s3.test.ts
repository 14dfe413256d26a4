// The store format over a real S3 API: s3rver on 127.0.0.1 behind the recording proxy (test/helpers/s3-standin.ts).
// Assertions are on the HTTP requests the proxy received: what a day with nothing new costs, conditional writes
// and Object Lock headers on every object and manifest, and a prune that the (proxy-enforced) lock stops.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { readMetadata } from '../src/metadata.ts';
import { readManifest, resolveStoredSnapshot } from '../src/store/catalog.ts';
import { manifestKey } from '../src/store/format.ts';
import { pullSnapshot } from '../src/store/pull.ts';
import { PushSession, pushSnapshot } from '../src/store/push.ts';
import { pruneStore } from '../src/store/store-prune.ts';
import { verifyStore } from '../src/store/store-verify.ts';
import { git, makeTempDir, refsOf } from './helpers/git-fixtures.ts';
import { S3RVER_ACCESS_KEY_ID, startS3StandIn, type S3StandIn } from './helpers/s3-standin.ts';
import { storeScenario, type StoreScenario } from './helpers/store-fixtures.ts';

let s3: S3StandIn;
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = S3RVER_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = `format-secret-${randomBytes(8).toString('hex')}`;
  s3 = await startS3StandIn();
});

afterAll(async () => {
  await s3?.close();
  process.env.AWS_ACCESS_KEY_ID = saved.id;
  process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
});

const cleanups = cleanupAfterEach();

function scenario(): StoreScenario {
  const s = storeScenario();
  cleanups.push(s.cleanup);
  return s;
}

const prefixOf = () => `format/${randomBytes(6).toString('hex')}`;

describe('store format on S3', () => {
  it('pushes, restores onto an empty directory, and a day with nothing new costs at most 3 requests', async () => {
    const s = scenario();
    const first = await s.syncSnapshot();
    const prefix = prefixOf();
    const store = s3.store(prefix);
    const session = new PushSession(store);
    await session.pushRepository('acme/widgets', [first]);
    await session.close();

    const latest = await resolveStoredSnapshot(store, 'acme/widgets');
    const repo = join(makeTempDir('gpb-pull-'), 'w.git');
    await pullSnapshot(store, await readManifest(store, 'acme/widgets', latest.snapshot), repo, { layout: 'repository' });
    git(repo, 'fsck', '--full', '--strict');
    expect(refsOf(repo)).toEqual(refsOf(s.upstream.bare));
    expect((await verifyStore(store, { readData: 1 })).problems).toEqual([]);

    // The next day's run: a fresh session (a new process), nothing new upstream, so no new local snapshot.
    const mark = s3.requests.length;
    const next = new PushSession(s3.store(prefix));
    expect(await next.pushRepository('acme/widgets', [first])).toEqual([]);
    await next.close();
    const day = s3.requests.slice(mark);
    expect(day.length).toBeLessThanOrEqual(3);
    expect(day.every((r) => r.method === 'GET' && r.query.get('list-type') === '2')).toBe(true);
  });

  it('sends If-None-Match and Object Lock retention with every object and manifest', async () => {
    const s = scenario();
    const snapshot = await s.syncSnapshot();
    const prefix = prefixOf();
    const mark = s3.requests.length;
    const now = new Date();
    const result = await pushSnapshot(s3.store(prefix), snapshot, { objectLock: { mode: 'GOVERNANCE', days: 7 }, clock: () => now });
    const puts = s3.requests.slice(mark).filter((r) => r.method === 'PUT' && r.path.includes(`/${prefix}/`) && !r.path.includes('/locks/') && !r.path.includes('/store-format-v'));
    const metadata = await readMetadata(snapshot);
    // One PUT per file but packed-refs and the pack indexes (snapshot.json and packed-refs travel in the manifest,
    // indexes are rebuilt from their packs), then the manifest.
    const indexes = Object.keys(metadata.files).filter((p) => /^objects\/pack\/.*\.(idx|rev)$/.test(p));
    expect(indexes.length).toBeGreaterThan(0);
    expect(puts).toHaveLength(Object.keys(metadata.files).length - indexes.length);
    expect(result.derivedFiles).toBe(indexes.length);
    expect(puts.map((r) => r.path).at(-1)).toBe(`/backups/${prefix}/${manifestKey('acme/widgets', result.snapshot)}`);
    // The push listed objects/ first, so no object costs a HEAD before its PUT.
    expect(s3.requests.slice(mark).filter((r) => r.method === 'HEAD' && r.path.includes('/objects/'))).toEqual([]);
    for (const put of puts) {
      expect(put.headers['if-none-match']).toBe('*');
      expect(put.headers['x-amz-object-lock-mode']).toBe('GOVERNANCE');
      expect(new Date(put.headers['x-amz-object-lock-retain-until-date'] as string).getTime()).toBe(now.getTime() + 7 * 86_400_000);
    }
  });

  it('prune leaves objects under Object Lock alone and says so; the store stays whole', async () => {
    const s = scenario();
    const dirs = [await s.syncSnapshot()];
    s.clock.advanceDays(1);
    dirs.push(await s.syncSnapshot('day two'));
    const store = s3.store(prefixOf());
    for (const dir of dirs) await pushSnapshot(store, dir, { objectLock: { mode: 'COMPLIANCE', days: 30 } });
    // Not told about the lock: it tries, the server refuses (403), and the snapshot is reported as locked.
    const result = await pruneStore(store, { policy: { days: 0, weekly: 0, monthly: 0, yearly: 0, keepMin: 1 }, graceMs: 0 });
    expect(result.repositories[0]!.locked).toEqual([dirs[0]!.split('/').at(-1)]);
    expect(result.repositories[0]!.forgotten).toEqual([]);
    expect((await verifyStore(store)).problems).toEqual([]);
  });
});
