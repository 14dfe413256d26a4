// docs/STORE_FORMAT.md "Restoring by hand", run as written with the AWS CLI, jq and git against s3rver on 127.0.0.1:
// a stranger with only those tools gets the repository back, pack indexes (and a reverse index) rebuilt by the
// git index-pack the page names, byte for byte. Only the page's example values (store, endpoint, snapshot) are
// replaced. Runs where the AWS CLI and jq are installed (always on CI).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetadata, type SnapshotMetadata } from '../src/metadata.ts';
import { pushSnapshot } from '../src/store/push.ts';
import { sha256Hex } from '../src/store/rebuilt-files.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { makeTempDir, refsOf } from './helpers/git-fixtures.ts';
import { S3RVER_ACCESS_KEY_ID, startS3StandIn, type S3StandIn } from './helpers/s3-standin.ts';
import { contentFingerprint, storeScenario } from './helpers/store-fixtures.ts';

const hasTools = ['aws', 'jq'].every((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status === 0);
// .ci/run installs both: on CI a missing tool is a failure, not a skipped proof.
if (!hasTools && process.env.CI === 'true') throw new Error('the AWS CLI and jq are needed to run docs/STORE_FORMAT.md "Restoring by hand"');
const SECRET = `by-hand-secret-${randomBytes(8).toString('hex')}`;
const cleanups = cleanupAfterEach();
let s3: S3StandIn;
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  if (!hasTools) return;
  process.env.AWS_ACCESS_KEY_ID = S3RVER_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = SECRET;
  s3 = await startS3StandIn();
});
afterAll(async () => {
  await s3?.close();
  process.env.AWS_ACCESS_KEY_ID = saved.id;
  process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
});

/** The page's shell block, with its example store, endpoint and snapshot replaced by real ones. */
function byHandScript(store: string, endpoint: string, snapshot: string): string {
  const page = readFileSync(join(import.meta.dirname, '..', 'docs', 'STORE_FORMAT.md'), 'utf8');
  const section = page.slice(page.indexOf('## Restoring by hand'));
  const block = /```sh\n([\s\S]*?)\n```/.exec(section)![1]!;
  const replaced = block
    .replace(/^STORE=\S+/m, `STORE=${store}`)
    .replace(/^S3="aws s3 --endpoint-url \S+"/m, `S3="aws s3 --endpoint-url ${endpoint}"`)
    .replace(/^SNAP=\S+/m, `SNAP=${snapshot}`);
  for (const line of [`STORE=${store}`, `S3="aws s3 --endpoint-url ${endpoint}"`, `SNAP=${snapshot}`]) expect(replaced).toContain(line);
  return replaced;
}

/** Run a bash script without blocking this process: the recording proxy in front of s3rver lives in it. */
function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, output }));
  });
}

describe.runIf(hasTools)('restoring by hand (docs/STORE_FORMAT.md)', () => {
  it('gives back the repository, its pack index and reverse index rebuilt byte for byte', async () => {
    const s = storeScenario();
    cleanups.push(s.cleanup);
    const synced = await s.syncSnapshot();
    // The same snapshot with a reverse index beside its pack, as git >= 2.41 writes by default.
    const snapshot = join(makeTempDir('gpb-by-hand-snap-'), 'snap');
    cleanups.push(() => execFileSync('rm', ['-rf', join(snapshot, '..')]));
    cpSync(synced, snapshot, { recursive: true });
    execFileSync('chmod', ['-R', 'u+w', snapshot]);
    const pack = readdirSync(join(snapshot, 'objects', 'pack')).find((n) => n.endsWith('.pack'))!;
    const rev = `objects/pack/${pack.replace(/\.pack$/, '.rev')}`;
    execFileSync('git', ['index-pack', '--rev-index', '-o', join(snapshot, 'objects', 'pack', 'x.idx'), join(snapshot, 'objects', 'pack', pack)], { cwd: makeTempDir('gpb-cwd-'), stdio: 'ignore' });
    rmSync(join(snapshot, 'objects', 'pack', 'x.idx'));
    execFileSync('mv', [join(snapshot, 'objects', 'pack', 'x.rev'), join(snapshot, rev)]);
    const metadata: SnapshotMetadata = await readMetadata(snapshot);
    const revBytes = readFileSync(join(snapshot, rev));
    metadata.files[rev] = { sha256: sha256Hex(revBytes), size: revBytes.length };
    writeFileSync(join(snapshot, 'snapshot.json'), `${JSON.stringify(metadata, null, 2)}\n`);

    const prefix = `by-hand-${randomBytes(3).toString('hex')}`;
    const pushed = await pushSnapshot(s3.store(prefix), snapshot);
    expect(pushed.derivedFiles).toBe(2);

    const work = makeTempDir('gpb-by-hand-');
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const { status, output } = await bash(byHandScript(`s3://backups/${prefix}`, s3.url, metadata.name), work, {
      PATH: process.env.PATH!,
      HOME: work,
      AWS_ACCESS_KEY_ID: S3RVER_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_DEFAULT_REGION: 'us-east-1',
      GIT_CONFIG_NOSYSTEM: '1',
    });
    expect(status, output).toBe(0);
    expect(output).not.toMatch(/MISMATCH/);
    const repo = join(work, 'widgets.git');
    // Every file of the snapshot is back as it was, the two rebuilt indexes included (snapshot.json was removed).
    const { 'snapshot.json': _removed, ...expected } = await contentFingerprint(snapshot);
    expect(await contentFingerprint(repo)).toEqual(expected);
    expect(refsOf(repo)).toEqual(refsOf(s.upstream.bare));
  });
});
