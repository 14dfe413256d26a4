#!/usr/bin/env node
// node bench/metadata-snapshot-bench.mjs: what carrying the GitHub metadata costs a snapshot (docs/BENCHMARKS.md
// "GitHub metadata in snapshots").
//
//  1. A small upstream and its mirror (backup-manager init), and a live metadata repository where the capture
//     writes it (docs/METADATA_FORMAT.md): N issue documents (default 5,000, a comment each), 20 releases with an
//     asset each (1 MiB), format.json and capture.json, committed with git fast-import (one pack), as two captures:
//     all of it, then a day on which 50 issues changed (a second, small pack).
//  2. Snapshot time: `backup-manager snapshot` of the repository with its metadata, then without it (the metadata
//     directory moved aside), median of --reps each (each after one of its own kind, as day after day: checksums of
//     files shared with the newest snapshot are reused); and `cp -al` of the same mirror + metadata repository +
//     assets, the floor for laying hard links. Ratios are to runs in this same process.
//  3. verify of the newest snapshot with and without metadata, the same way; and the disk each snapshot adds.
//
// Uses the bundled CLI (dist/backup-manager.mjs): build first. No network, no token.
// Options: --issues N (default 5000), --reps N (default 5), --keep, --json.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLI, option } from './harness.mjs';

const ISSUES = option('issues', 5000);
const REPS = option('reps', 5);
const RELEASES = 20;
const ASSET_BYTES = 1024 * 1024;
if (!existsSync(CLI)) {
  console.error(`${CLI} is missing: run "npm run build" first.`);
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'backup-metadata-bench-'));
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };
const now = () => Number(process.hrtime.bigint()) / 1e6;
const fmtMs = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const fmtBytes = (b) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (line) => process.stdout.write(`${line}\n`);

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}: ${result.stderr || result.stdout}`);
  return result.stdout;
}
const timed = (cmd, args) => {
  const start = now();
  run(cmd, args);
  return now() - start;
};

/** Bytes on disk of these trees, every inode once. */
function diskUsage(paths, seen = new Set()) {
  let bytes = 0;
  const visit = (path) => {
    const st = lstatSync(path, { bigint: false });
    if (st.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    else if (!seen.has(st.ino)) {
      seen.add(st.ino);
      bytes += st.blocks * 512;
    }
  };
  for (const p of paths) if (existsSync(p)) visit(p);
  return bytes;
}

const upstream = join(work, 'upstream', 'bench', 'meta.git');
const root = join(work, 'root');
const repoUrl = pathToFileURL(upstream).href;
const cli = (...args) => ['--root', root, '--repo', repoUrl, ...args];
const live = join(root, 'metadata', 'bench', 'meta.git');
const assets = join(root, 'metadata', 'bench', 'meta.assets');
const mirror = join(root, 'immutable', 'bench', 'meta.git');
const snapshots = join(root, 'snapshots', 'bench', 'meta');

// 1. Upstream, mirror, metadata.
mkdirSync(upstream, { recursive: true });
run('git', ['init', '--bare', '--quiet', '--initial-branch=main', upstream]);
const seed = join(work, 'seed');
run('git', ['clone', '--quiet', upstream, seed]);
for (let i = 0; i < 20; i++) {
  writeFileSync(join(seed, `f${i}.txt`), `file ${i}\n`);
  run('git', ['-C', seed, 'add', '.']);
  run('git', ['-C', seed, '-c', 'user.name=b', '-c', 'user.email=b@example.com', 'commit', '--quiet', '-m', `commit ${i}`]);
}
run('git', ['-C', seed, 'push', '--quiet', 'origin', 'main']);
run(process.execPath, [CLI, 'init', ...cli()]);

const T = '2026-01-01T00:00:00Z';
const doc = (value) => `${JSON.stringify(value, null, 2)}\n`;
const issue = (n, day) => ({
  number: n, title: `Issue ${n}`, body: `What happened on day ${day}, in a paragraph or two. `.repeat(8), state: 'open', author: 'octocat',
  createdAt: T, updatedAt: T, closedAt: null, labels: ['bug'], assignees: [], milestone: null, locked: false,
  comments: [{ id: n * 10, author: 'hubot', body: `A comment on ${n}.`, createdAt: T, updatedAt: T }],
});
mkdirSync(assets, { recursive: true });
const releases = [];
for (let r = 1; r <= RELEASES; r++) {
  const bytes = createHash('sha512').update(String(r)).digest().toString('hex').repeat(ASSET_BYTES / 128);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(assets, sha256), bytes);
  chmodSync(join(assets, sha256), 0o444);
  releases.push({
    id: r, tagName: `v${r}`, targetCommitish: 'main', name: `v${r}`, body: null, draft: false, prerelease: false, author: 'octocat', createdAt: T, publishedAt: T,
    assets: [{ id: r * 100, name: `tool-${r}.bin`, label: null, contentType: 'application/octet-stream', size: bytes.length, createdAt: T, updatedAt: T, sha256 }],
  });
}

/** One capture as a fast-import commit: `files` path -> text, on top of main when `parent`. */
function capture(files, day, parent) {
  const lines = [`commit refs/heads/main`, `committer capture <capture@localhost> ${1767225600 + day * 86400} +0000`, `data 10`, `capture ${String(day).padStart(2, '0')}`];
  if (parent) lines.push('from refs/heads/main^0');
  for (const [path, text] of files) lines.push(`M 100644 inline ${path}`, `data ${Buffer.byteLength(text)}`, text);
  run('git', ['--git-dir', live, 'fast-import', '--quiet'], { input: `${lines.join('\n')}\n` });
}
mkdirSync(live, { recursive: true });
run('git', ['init', '--bare', '--quiet', '--template=', '--initial-branch=main', live]);
const captureDoc = (day) => doc({ capturedAt: `2026-01-0${day}T02:00:00Z`, repository: 'bench/meta', kinds: { issues: { state: 'complete', count: ISSUES }, releases: { state: 'complete', count: RELEASES } } });
const day1 = [['format.json', doc({ format: 'github-private-backup-metadata', version: 1 })], ['capture.json', captureDoc(1)]];
for (let n = 1; n <= ISSUES; n++) day1.push([`issues/${n}.json`, doc(issue(n, 1))]);
for (const release of releases) day1.push([`releases/${release.id}.json`, doc(release)]);
capture(day1, 1, false);
run(process.execPath, [CLI, 'snapshot', ...cli()]);
const day2 = [['capture.json', captureDoc(2)]];
for (let n = 1; n <= 50; n++) day2.push([`issues/${n * 7}.json`, doc(issue(n * 7, 2))]);
capture(day2, 2, true);

// 2. Snapshot with and without metadata, and cp -al of the same trees, alternately.
const aside = join(work, 'metadata-aside');
const withMetadata = [];
const without = [];
const cpal = [];
const liveBytes = diskUsage([live, assets]);
let added = 0;
for (let i = 0; i < REPS; i++) {
  const seen = new Set();
  diskUsage([mirror, live, assets, snapshots], seen);
  withMetadata.push(timed(process.execPath, [CLI, 'snapshot', ...cli()]));
  if (i === 0) added = diskUsage([snapshots], seen);
}
const withName = readdirSync(snapshots).sort().at(-1);
renameSync(join(root, 'metadata'), aside);
for (let i = 0; i < REPS; i++) without.push(timed(process.execPath, [CLI, 'snapshot', ...cli()]));
renameSync(aside, join(root, 'metadata'));
for (let i = 0; i < REPS; i++) {
  const copy = join(work, `cp-al-${i}`);
  mkdirSync(copy);
  cpal.push(timed('cp', ['-al', mirror, live, assets, copy]));
  rmSync(copy, { recursive: true, force: true });
}

// 3. verify of a snapshot with metadata and of one without, alternately.
const withoutName = readdirSync(snapshots).sort().at(-1);
const verifyWith = [];
const verifyWithout = [];
for (let i = 0; i < REPS; i++) {
  verifyWith.push(timed(process.execPath, [CLI, 'verify', withName, ...cli()]));
  verifyWithout.push(timed(process.execPath, [CLI, 'verify', withoutName, ...cli()]));
}

const result = {
  issues: ISSUES,
  releases: RELEASES,
  assetBytes: RELEASES * ASSET_BYTES,
  liveBytes,
  snapshotWithMetadataMs: median(withMetadata),
  snapshotWithoutMs: median(without),
  cpAlMs: median(cpal),
  verifyWithMetadataMs: median(verifyWith),
  verifyWithoutMs: median(verifyWithout),
  snapshotAddsBytes: added,
};
log(`GitHub metadata in snapshots: ${ISSUES} issues, ${RELEASES} releases (${fmtBytes(RELEASES * ASSET_BYTES)} of assets), median of ${REPS}`);
log(`  snapshot, with metadata:    ${fmtMs(result.snapshotWithMetadataMs)} (${(result.snapshotWithMetadataMs / result.snapshotWithoutMs).toFixed(2)}x without)`);
log(`  snapshot, without metadata: ${fmtMs(result.snapshotWithoutMs)}`);
log(`  cp -al of mirror + metadata + assets: ${fmtMs(result.cpAlMs)}`);
log(`  verify, with metadata:      ${fmtMs(result.verifyWithMetadataMs)} (${(result.verifyWithMetadataMs / result.verifyWithoutMs).toFixed(2)}x without)`);
log(`  verify, without metadata:   ${fmtMs(result.verifyWithoutMs)}`);
log(`  disk a new snapshot with metadata adds: ${fmtBytes(result.snapshotAddsBytes)} (live metadata + assets: ${fmtBytes(liveBytes)})`);
if (process.argv.includes('--json')) log(JSON.stringify(result));
if (process.argv.includes('--keep')) log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
