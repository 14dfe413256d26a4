// kill -9 during a restore from the store and from an archive: the scratch directory it was pulling or extracting
// into is left behind, and the next run removes it (src/engine/scratch.ts, called by the recovery pass and by the
// next restore), while a scratch directory of a run that is still alive is never touched. The same for the
// repository `restore --to` builds beside its target.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMarker } from '../src/process-tree.ts';
import type { ExportRepoResult, RunResult } from '../src/types.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { runCli, startCli, type CliResult } from './helpers/cli.ts';
import { createUpstream, git, makeTempDir, refsOf, type Upstream } from './helpers/git-fixtures.ts';
import { S3RVER_ACCESS_KEY_ID, S3StandIn } from './helpers/s3-standin.ts';

const cleanups = cleanupAfterEach();
let s3: S3StandIn;

beforeAll(async () => {
  s3 = await new S3StandIn().start();
});
afterAll(async () => {
  await s3.close();
});

const env = { AWS_ACCESS_KEY_ID: S3RVER_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: 'restore-kill-secret', GIT_CONFIG_NOSYSTEM: '1' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function upstreamWithHistory(): Upstream {
  const upstream = createUpstream();
  cleanups.push(() => upstream.cleanup());
  return upstream;
}

const scratchIn = (root: string, kind: string) => (existsSync(join(root, 'immutable')) ? readdirSync(join(root, 'immutable')).filter((n) => n.startsWith(`.tmp-${kind}-`)) : []);

/** A scratch directory named for a run that is alive (this test process): no sweep may take it. */
function liveScratch(root: string): string {
  const [pid, start] = runMarker().split(':') as [string, string];
  const name = `.tmp-store-${pid}.${start === '?' ? 'x' : start}-${randomBytes(4).toString('hex')}`;
  mkdirSync(join(root, 'immutable', name, 'objects'), { recursive: true });
  return name;
}

async function killed(run: { child: { kill(signal: NodeJS.Signals): boolean }; done: Promise<CliResult> }): Promise<CliResult> {
  run.child.kill('SIGKILL');
  const result = await run.done;
  expect(result.code, result.stderr).toBeNull();
  return result;
}

/** A backed-up upstream with a 24 MiB incompressible file: big enough that a restore's copy, checks and build take a while, so a kill lands inside them. */
async function syncedBigUpstream(): Promise<{ upstream: Upstream; base: string; root: string }> {
  const upstream = upstreamWithHistory();
  writeFileSync(join(upstream.work, 'big.bin'), randomBytes(24 * 1024 * 1024));
  git(upstream.work, 'add', 'big.bin');
  git(upstream.work, 'commit', '--quiet', '-m', 'a big file');
  upstream.push('main');
  const base = makeTempDir('gpb-restore-kill-');
  cleanups.push(() => removeAll(base));
  const root = join(base, 'root');
  expect((await runCli(['sync', '--root', root, '--repo', upstream.bare], env)).code).toBe(0);
  return { upstream, base, root };
}

describe('a restore killed with SIGKILL', () => {
  it('from the store leaves its scratch directory, which the next sync removes (and not a live one)', async () => {
    const upstream = upstreamWithHistory();
    const base = makeTempDir('gpb-restore-kill-');
    cleanups.push(() => removeAll(base));
    const root = join(base, 'root');
    const file = join(base, 'config.json');
    const prefix = `kill-${randomBytes(3).toString('hex')}`;
    writeFileSync(file, JSON.stringify({ root, repositories: [upstream.bare], store: { url: `s3://backups/${prefix}`, endpoint: s3.url, region: 'us-east-1', forcePathStyle: true } }));
    const synced = await runCli(['sync', '--config', file], env);
    expect(synced.code, synced.stdout + synced.stderr).toBe(0);

    // Hold every download of an object until the restore is dead: it is then certainly mid-pull.
    let reached!: () => void;
    const downloading = new Promise<void>((resolve) => (reached = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    s3.beforeHandle = async (request) => {
      if (request.method === 'GET' && request.path.startsWith(`/backups/${prefix}/objects/`)) {
        reached();
        await released;
      }
    };
    try {
      const restore = startCli(['restore', 'latest', '--from-store', '--config', file, '--repo', 'acme/widgets', '--to', join(base, 'restored.git')], env);
      await downloading;
      expect(scratchIn(root, 'store')).toHaveLength(1);
      await killed(restore);
    } finally {
      s3.beforeHandle = undefined;
      release();
    }
    const [left] = scratchIn(root, 'store');
    expect(left).toBeDefined();
    expect(existsSync(join(base, 'restored.git'))).toBe(false);
    const live = liveScratch(root);

    const next = await runCli(['sync', '--config', file, '-v'], env);
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stderr).toContain(`removed ${join(root, 'immutable', left!)}, the scratch directory of an interrupted restore`);
    expect(scratchIn(root, 'store')).toEqual([live]);
    // And the restore, run again, goes through.
    const again = await runCli(['restore', 'latest', '--from-store', '--config', file, '--repo', 'acme/widgets', '--to', join(base, 'restored.git')], env);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(refsOf(join(base, 'restored.git'))).toEqual(refsOf(upstream.bare));
    expect(scratchIn(root, 'store')).toEqual([live]);
  });

  it('from an archive leaves its scratch directory, which the next restore removes', async () => {
    const { upstream, base, root } = await syncedBigUpstream();
    const exported = await runCli(['export', 'latest', '--root', root, '--repo', upstream.bare, '--json'], env);
    expect(exported.code, exported.stdout + exported.stderr).toBe(0);
    const outcome = (JSON.parse(exported.stdout) as RunResult<ExportRepoResult>).outcomes[0]!;
    if (!outcome.ok) throw new Error(outcome.error);
    const archive = outcome.value.archive;

    const to = join(base, 'from-archive.git');
    const restore = startCli(['restore', '--from-archive', archive, '--root', root, '--to', to], env);
    const deadline = Date.now() + 30_000;
    while (scratchIn(root, 'archive').length === 0 && Date.now() < deadline) await sleep(2);
    expect(scratchIn(root, 'archive')).not.toEqual([]);
    await killed(restore);
    const left = scratchIn(root, 'archive');
    expect(left.length).toBeGreaterThan(0);

    const again = await runCli(['restore', '--from-archive', archive, '--root', root, '--to', to, '-v'], env);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    for (const name of left) expect(again.stderr).toContain(`removed ${join(root, 'immutable', name)}, the scratch directory of an interrupted restore`);
    expect(scratchIn(root, 'archive')).toEqual([]);
    expect(refsOf(to)).toEqual(refsOf(upstream.bare));
  });
});

describe('restore --to killed with SIGKILL', () => {
  it('leaves the repository it was building beside the target, which the next restore there removes (and not a live one)', async () => {
    const { upstream, base, root } = await syncedBigUpstream();
    const targets = join(base, 'targets');
    mkdirSync(targets);
    const scratchBeside = () => readdirSync(targets).filter((n) => /^\..+\.restore-/.test(n));

    const to = join(targets, 'widgets.git');
    const restore = startCli(['restore', 'latest', '--root', root, '--repo', upstream.bare, '--to', to], env);
    const deadline = Date.now() + 30_000;
    while (scratchBeside().length === 0 && Date.now() < deadline) await sleep(2);
    expect(scratchBeside()).toHaveLength(1);
    await killed(restore);
    const [left] = scratchBeside();
    expect(left).toMatch(/^\.widgets\.git\.restore-\d+\.(\d+|x)-[0-9a-f]{8}$/);
    expect(existsSync(to)).toBe(false);
    // One named for a run that is alive (this test process), as a concurrent restore's would be.
    const [pid, start] = runMarker().split(':') as [string, string];
    const live = `.other.git.restore-${pid}.${start === '?' ? 'x' : start}-${randomBytes(4).toString('hex')}`;
    mkdirSync(join(targets, live, 'objects'), { recursive: true });

    const again = await runCli(['restore', 'latest', '--root', root, '--repo', upstream.bare, '--to', to, '-v'], env);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stderr).toContain(`removed ${join(targets, left!)}, the scratch directory of an interrupted restore`);
    expect(scratchBeside()).toEqual([live]);
    expect(refsOf(to)).toEqual(refsOf(upstream.bare));
  });
});

/** Remove a test's directory, read-only snapshot directories included. */
function removeAll(dir: string): void {
  spawnSync('chmod', ['-R', 'u+w', dir]);
  rmSync(dir, { recursive: true, force: true });
}
