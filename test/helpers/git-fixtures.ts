// Real repositories for tests: a bare upstream in a temp dir and a work clone that commits, merges, tags,
// force-pushes and deletes branches in it. Everything goes through the real git binary.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveSettings, type BackupSettings } from '../../src/config.ts';
import { createEngine } from '../../src/engine/index.ts';
import type { Engine } from '../../src/engine/api.ts';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Committer',
  GIT_COMMITTER_EMAIL: 'committer@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'safe.directory=*', ...args], { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function refsOf(dir: string): Record<string, string> {
  const out = git(dir, 'for-each-ref', '--format=%(objectname) %(refname)');
  return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => [l.slice(41), l.slice(0, 40)]));
}

export interface Upstream {
  tmp: string;
  /** Bare upstream repository (path), named <owner>/<name>.git so it maps to that repository id. */
  bare: string;
  work: string;
  id: string;
  commit(message: string, file?: string): string;
  push(...refspecs: string[]): void;
  cleanup(): void;
}

export function makeTempDir(prefix = 'gpb-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** An upstream with main, a merged feature branch, a lightweight and an annotated tag. */
export function createUpstream(options: { owner?: string; name?: string } = {}): Upstream {
  const owner = options.owner ?? 'acme';
  const name = options.name ?? 'widgets';
  const tmp = makeTempDir();
  const bare = join(tmp, 'upstream', owner, `${name}.git`);
  mkdirSync(bare, { recursive: true });
  git(bare, 'init', '--bare', '--quiet', '--initial-branch=main');
  const work = join(tmp, 'work');
  git(tmp, 'clone', '--quiet', bare, work);
  let counter = 0;
  const upstream: Upstream = {
    tmp,
    bare,
    work,
    id: `${owner}/${name}`,
    commit(message, file = 'file.txt') {
      writeFileSync(join(work, file), `${message}\n${counter++}\n`);
      git(work, 'add', file);
      git(work, 'commit', '--quiet', '-m', message);
      return git(work, 'rev-parse', 'HEAD').trim();
    },
    push(...refspecs) {
      git(work, 'push', '--quiet', 'origin', ...refspecs);
    },
    cleanup() {
      rmSync(tmp, { recursive: true, force: true });
    },
  };
  upstream.commit('initial commit');
  upstream.commit('second commit');
  git(work, 'checkout', '--quiet', '-b', 'feature');
  upstream.commit('feature work', 'feature.txt');
  git(work, 'checkout', '--quiet', 'main');
  upstream.commit('main moves on', 'main.txt');
  git(work, 'merge', '--quiet', '--no-ff', '-m', 'Merge feature', 'feature');
  git(work, 'tag', 'v1.0');
  git(work, 'tag', '-a', 'v1.1', '-m', 'annotated release');
  upstream.push('main', 'feature', 'v1.0', 'v1.1');
  return upstream;
}

export interface TestBackup {
  root: string;
  settings: BackupSettings;
  engine: Engine;
  /** A fresh engine with another clock or settings. */
  engineWith(overrides?: Partial<BackupSettings>, clock?: () => Date): Engine;
}

export function createBackup(upstreams: Upstream[], overrides: Partial<BackupSettings> = {}, clock?: () => Date): TestBackup {
  const root = join(makeTempDir('gpb-root-'), 'backup');
  const settings: BackupSettings = {
    ...resolveSettings({ root, repositories: upstreams.map((u) => u.bare) }, {}),
    ...overrides,
  };
  const engineWith = (more: Partial<BackupSettings> = {}, c = clock) => createEngine({ settings: { ...settings, ...more }, clock: c });
  return { root, settings, engine: engineWith(), engineWith };
}

/** A clock tests move by hand; by default each reading is a second later so snapshot names never collide. */
export function fakeClock(start = '2026-01-01T02:00:00Z', stepMs = 1000): { now: () => Date; advanceDays(days: number): void; set(iso: string): void } {
  let t = new Date(start).getTime();
  return {
    now: () => new Date((t += stepMs)),
    advanceDays(days) {
      t += days * 86_400_000;
    },
    set(iso) {
      t = new Date(iso).getTime();
    },
  };
}

export function okValue<T>(result: { outcomes: Array<{ ok: true; value: T } | { ok: false; error: string }> }, index = 0): T {
  const outcome = result.outcomes[index];
  if (!outcome) throw new Error('no outcome');
  if (!outcome.ok) throw new Error(`expected success, got: ${outcome.error}`);
  return outcome.value;
}
