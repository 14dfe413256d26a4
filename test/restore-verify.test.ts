// How restore checks what it built (docs/RESTORE_RUNBOOK.md "How a restore is checked"): by default every file
// against snapshot.json's sha256 plus `git fsck --connectivity-only`; `--verify full` adds a full fsck. Real
// repositories, real packs corrupted byte by byte where git keeps a blob's data.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { runCli } from './helpers/cli.ts';
import { corruptObjectInPack } from './helpers/damaged-pack.ts';
import { createBackup, createUpstream, git, makeTempDir, okValue, type Upstream } from './helpers/git-fixtures.ts';

const cleanups = cleanupAfterEach();

/** An upstream whose newest commit adds 64 KiB of random bytes: a blob zlib cannot shrink, easy to hit. */
function upstreamWithBlob(): { u: Upstream; blob: string } {
  const u = createUpstream();
  cleanups.push(u.cleanup);
  writeFileSync(join(u.work, 'noise.bin'), randomBytes(64 * 1024));
  git(u.work, 'add', 'noise.bin');
  git(u.work, 'commit', '--quiet', '-m', 'add noise');
  u.push('main');
  return { u, blob: git(u.work, 'rev-parse', 'HEAD:noise.bin').trim() };
}

const mirrorOf = (root: string) => join(root, 'immutable/acme/widgets.git');

describe('restore verification', () => {
  it('a blob damaged before the snapshot was taken passes the default check and fails --verify full', async () => {
    const { u, blob } = upstreamWithBlob();
    const b = createBackup([u]);
    okValue(await b.engine.init());
    // The damage is in the mirror's pack before any snapshot: snapshot.json records the damaged bytes' checksum.
    corruptObjectInPack(mirrorOf(b.root), blob);
    const name = okValue(await b.engine.snapshot()).snapshot.name;
    const out = makeTempDir('gpb-verify-');

    const quick = join(out, 'quick');
    okValue(await b.engine.restore({ snapshot: name, to: quick }));
    // What the default check cannot see, git's full check does: the damage is real and reached the copy.
    expect(() => execFileSync('git', ['fsck', '--full', '--no-progress'], { cwd: quick, stdio: 'pipe' })).toThrow();

    const full = join(out, 'full');
    const run = await runCli(['restore', name, '--root', b.root, '--repo', u.bare, '--to', full, '--verify', 'full']);
    expect(run.code, run.stderr).toBe(ExitCode.FAILURE);
    // The blob's own bytes are what git could not unpack.
    expect(run.stdout).toMatch(new RegExp(`restored repository failed git fsck: .*cannot unpack ${blob}`));
    expect(existsSync(full)).toBe(false);
    expect(readdirSync(out).sort()).toEqual(['quick']);
  });

  it('a pack damaged after the snapshot was taken fails the default check, names the file, and restores nothing', async () => {
    const { u, blob } = upstreamWithBlob();
    const b = createBackup([u]);
    const name = okValue(await b.engine.sync()).snapshot!.name;
    // Mirror and snapshot share the pack's inode: damage to one is damage to both.
    const pack = corruptObjectInPack(mirrorOf(b.root), blob);
    const out = makeTempDir('gpb-verify-');
    const to = join(out, 'restored');
    const result = await b.engine.restore({ snapshot: name, to });
    expect(result.outcomes[0]!.ok).toBe(false);
    const error = result.outcomes[0]!.ok ? '' : result.outcomes[0]!.error;
    expect(error).toContain(`objects/pack/${pack.split('/').at(-1)}: checksum mismatch`);
    expect(readdirSync(out)).toEqual([]);
    // In place too: the live mirror is left where it was, nothing is swapped in or kept aside.
    const before = readdirSync(join(b.root, 'immutable/acme')).sort();
    const inPlace = await b.engine.restore({ snapshot: name });
    expect(inPlace.outcomes[0]!.ok).toBe(false);
    expect(readdirSync(join(b.root, 'immutable/acme')).sort()).toEqual(before);
  });

  it('--verify takes connectivity or full, and nothing else', async () => {
    const run = await runCli(['restore', '--root', makeTempDir('gpb-verify-'), '--repo', 'acme/widgets', '--to', '/tmp/x', '--verify', 'quick']);
    expect(run.code, run.stderr).toBe(ExitCode.USAGE);
    expect(run.stderr).toMatch(/verify/);
  });
});
