#!/usr/bin/env node
// npm run bench (lfs part): what the LFS step costs a sync of a repository that has no LFS content, the common case:
// `git lfs fetch --all`, and the pointer scan that lets such a repository skip it (src/git/lfs-pointers.ts). Then,
// for a repository with LFS content (every 10th commit changes an LFS file; every object already in the mirror, so
// only the scan is measured): the whole-history `git lfs fetch --all origin` against the one a later sync runs,
// `git lfs fetch --all origin <new tip> ^<old tip>` (src/lfs-scope.ts); and with 300 more old tips (tags along main),
// each named with ^ or first reduced by `git merge-base --independent` (src/engine/lfs.ts).
// Measured as ratios, in the same process, alternating, median of --reps runs, against:
//   - the day's `git fetch` of one new commit into the mirror (what a sync with a change does anyway), and
//   - a full `git fetch` of the whole history into an empty mirror (the first sync).
// On a day with no ref change the LFS step runs nothing at all (src/engine/lfs.ts): that needs no measuring.
//
// Options: --commits N (10000), --files N (2000 paths), --reps N (5), --json.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { option } from './harness.mjs';

const COMMITS = option('commits', 10000);
const FILES = option('files', 2000);
const REPS = option('reps', 5);

const work = mkdtempSync(join(tmpdir(), 'backup-lfs-bench-'));
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' };
const run = (cmd, args, options = {}) => {
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 28, ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r;
};
const git = (cwd, ...args) => run('git', args, { cwd }).stdout.trim();
if (spawnSync('git', ['lfs', 'version'], { env }).status !== 0) {
  console.error('git-lfs is not installed: nothing to measure');
  process.exit(1);
}

// An upstream of COMMITS commits over FILES paths (small blobs: the size git-lfs must read to rule out a pointer);
// within one fast-import stream each commit continues the branch.
const upstream = join(work, 'upstream.git');
mkdirSync(upstream);
git(upstream, 'init', '--quiet', '--bare', '--initial-branch=main');
let time = 1_700_000_000;
const chunks = [];
for (let i = 0; i < COMMITS; i++) {
  const body = `change ${i}\n`;
  const blob = `line ${i}\n`;
  chunks.push(`commit refs/heads/main\ncommitter Bench <bench@example.com> ${(time += 600)} +0000\ndata ${body.length}\n${body}M 100644 inline dir-${i % 20}/file-${i % FILES}.txt\ndata ${blob.length}\n${blob}\n`);
}
run('git', ['fast-import', '--quiet'], { cwd: upstream, input: chunks.join('') });
git(upstream, 'repack', '-adq');

const mirrorConfig = (dir) => {
  git(dir, 'config', 'remote.origin.url', upstream);
  git(dir, 'config', 'remote.origin.fetch', '+refs/*:refs/*');
};
const timed = (fn) => {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// A mirror one commit behind upstream, recreated for each rep: the day's fetch brings that commit.
const mirror = join(work, 'mirror.git');
let day = 0;
const samples = { fullFetch: [], dayFetch: [], lfsFetch: [], scanAll: [], scanDay: [] };
// What src/git/lfs-pointers.ts runs to rule out LFS: small blobs new since `since`, read by one cat-file.
const scan = (tips, since) => {
  const revs = `${[...tips, ...since.map((oid) => `^${oid}`)].join('\n')}\n`;
  const listed = run('git', ['rev-list', '--objects', '--no-object-names', '--filter=combine:blob:limit=1024+object:type=blob', '--stdin'], { cwd: mirror, input: revs }).stdout;
  run('git', ['cat-file', '--batch'], { cwd: mirror, input: listed });
};
for (let rep = 0; rep < REPS; rep++) {
  rmSync(mirror, { recursive: true, force: true });
  git(work, 'init', '--quiet', '--bare', mirror);
  mirrorConfig(mirror);
  samples.fullFetch.push(timed(() => git(mirror, 'fetch', '--quiet', '--no-write-fetch-head', 'origin')));
  const yesterday = git(mirror, 'rev-parse', 'main');
  samples.scanAll.push(timed(() => scan([yesterday], [])));
  const body = `day ${++day}\n`;
  run('git', ['fast-import', '--quiet'], { cwd: upstream, input: `commit refs/heads/main\ncommitter Bench <bench@example.com> ${(time += 600)} +0000\ndata ${body.length}\n${body}from ${git(upstream, 'rev-parse', 'main')}\nM 100644 inline day.txt\ndata ${body.length}\n${body}\n` });
  samples.dayFetch.push(timed(() => git(mirror, 'fetch', '--quiet', '--no-write-fetch-head', 'origin')));
  samples.scanDay.push(timed(() => scan([git(mirror, 'rev-parse', 'main')], [yesterday])));
  // What src/engine/lfs.ts runs; with no pointer in the history, git-lfs asks no server (port 9 would refuse).
  samples.lfsFetch.push(timed(() => git(mirror, '-c', 'lfs.url=http://127.0.0.1:9/none/info/lfs', 'lfs', 'fetch', '--all', 'origin')));
}

// The same history with LFS content: every 10th commit rewrites an LFS file of 10 paths; the mirror holds every
// object (git-lfs then asks no server: port 9 would refuse), so what differs is the history git-lfs reads.
const lfsUpstream = join(work, 'lfs-upstream.git');
mkdirSync(lfsUpstream);
git(lfsUpstream, 'init', '--quiet', '--bare', '--initial-branch=main');
const lfsObjects = [];
const pointer = (n) => {
  const content = Buffer.from(`LFS object ${n}\n`);
  const oid = createHash('sha256').update(content).digest('hex');
  lfsObjects.push({ oid, content });
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${content.length}\n`;
};
let lfsTime = 1_700_000_000;
const lfsChunks = [];
const lfsCommit = (i, from) => {
  const body = `change ${i}\n`;
  const file = i % 10 === 0 ? { path: `models/model-${(i / 10) % 10}.bin`, data: pointer(i) } : { path: `dir-${i % 20}/file-${i % FILES}.txt`, data: `line ${i}\n` };
  return `commit refs/heads/main\ncommitter Bench <bench@example.com> ${(lfsTime += 600)} +0000\ndata ${body.length}\n${body}${from ? `from ${from}\n` : ''}M 100644 inline ${file.path}\ndata ${file.data.length}\n${file.data}\n`;
};
for (let i = 0; i < COMMITS; i++) lfsChunks.push(lfsCommit(i));
run('git', ['fast-import', '--quiet'], { cwd: lfsUpstream, input: lfsChunks.join('') });
git(lfsUpstream, 'repack', '-adq');
const lfsMirror = join(work, 'lfs-mirror.git');
git(work, 'init', '--quiet', '--bare', lfsMirror);
git(lfsMirror, 'config', 'remote.origin.url', lfsUpstream);
git(lfsMirror, 'config', 'remote.origin.fetch', '+refs/*:refs/*');
git(lfsMirror, 'fetch', '--quiet', '--no-write-fetch-head', 'origin');
const placeObjects = () => {
  for (const { oid, content } of lfsObjects) {
    const dir = join(lfsMirror, 'lfs', 'objects', oid.slice(0, 2), oid.slice(2, 4));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, oid), content);
  }
};
placeObjects();
const lfs = (...args) => git(lfsMirror, '-c', 'lfs.url=http://127.0.0.1:9/none/info/lfs', 'lfs', 'fetch', '--all', 'origin', ...args);
for (let rep = 0; rep < REPS; rep++) {
  // The day: one commit that changes an LFS file (its object placed beforehand, as a download would).
  const yesterday = git(lfsMirror, 'rev-parse', 'main');
  run('git', ['fast-import', '--quiet'], { cwd: lfsUpstream, input: lfsCommit(COMMITS + rep * 10, git(lfsUpstream, 'rev-parse', 'main')) });
  placeObjects();
  git(lfsMirror, 'fetch', '--quiet', '--no-write-fetch-head', 'origin');
  const today = git(lfsMirror, 'rev-parse', 'main');
  // Alternating which runs first.
  const order = rep % 2 ? ['scoped', 'whole'] : ['whole', 'scoped'];
  for (const which of order) {
    (samples[`lfs_${which}`] ??= []).push(timed(() => (which === 'whole' ? lfs() : lfs(today, `^${yesterday}`))));
  }
  // With 300 tags along main as well (the last fetch's tips): every one named with ^, against what src/engine/lfs.ts
  // names, the tips merge-base --independent leaves (here: yesterday's main alone), merge-base included.
  const tags = git(lfsMirror, 'rev-list', '--max-count=300', '--skip=1', yesterday).split('\n');
  (samples.lfs_manyTips ??= []).push(timed(() => lfs(today, `^${yesterday}`, ...tags.map((t) => `^${t}`))));
  (samples.lfs_reducedTips ??= []).push(timed(() => lfs(today, ...git(lfsMirror, 'merge-base', '--independent', yesterday, ...tags).split('\n').map((t) => `^${t}`))));
}
const ms = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.round(median(v))]));
const result = {
  commits: COMMITS,
  files: FILES,
  reps: REPS,
  medianMs: ms,
  lfsOverDayFetch: Number((ms.lfsFetch / ms.dayFetch).toFixed(2)),
  lfsOverFullFetch: Number((ms.lfsFetch / ms.fullFetch).toFixed(2)),
  scanAllOverFullFetch: Number((ms.scanAll / ms.fullFetch).toFixed(2)),
  scanDayOverDayFetch: Number((ms.scanDay / ms.dayFetch).toFixed(2)),
  lfsObjects: lfsObjects.length,
  scopedOverWhole: Number((ms.lfs_scoped / ms.lfs_whole).toFixed(3)),
  scopedOverDayFetch: Number((ms.lfs_scoped / ms.dayFetch).toFixed(2)),
  manyTipsOverWhole: Number((ms.lfs_manyTips / ms.lfs_whole).toFixed(3)),
  reducedTipsOverWhole: Number((ms.lfs_reducedTips / ms.lfs_whole).toFixed(3)),
};
rmSync(work, { recursive: true, force: true });
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
else {
  console.log(`lfs-fetch: ${COMMITS} commits, no LFS content, median of ${REPS}`);
  console.log(`  git fetch, whole history:      ${ms.fullFetch} ms`);
  console.log(`  git fetch, the day's commit:   ${ms.dayFetch} ms`);
  console.log(`  git lfs fetch --all:           ${ms.lfsFetch} ms  (${result.lfsOverDayFetch}x the day's fetch, ${result.lfsOverFullFetch}x the full fetch)`);
  console.log(`  our pointer scan, all history: ${ms.scanAll} ms  (${result.scanAllOverFullFetch}x the full fetch: the first sync)`);
  console.log(`  our pointer scan, the day's:   ${ms.scanDay} ms  (${result.scanDayOverDayFetch}x the day's fetch: every later sync)`);
  console.log(`lfs-fetch with LFS content: ${COMMITS} commits, ${result.lfsObjects} LFS object versions, all in the mirror, median of ${REPS}`);
  console.log(`  git lfs fetch --all origin (whole history):     ${ms.lfs_whole} ms`);
  console.log(`  git lfs fetch --all origin NEW ^OLD (the day's): ${ms.lfs_scoped} ms  (${result.scopedOverWhole}x the whole; ${result.scopedOverDayFetch}x the day's git fetch)`);
  console.log(`  ... with 301 old tips, each named:               ${ms.lfs_manyTips} ms  (${result.manyTipsOverWhole}x the whole)`);
  console.log(`  ... reduced by merge-base --independent first:  ${ms.lfs_reducedTips} ms  (${result.reducedTipsOverWhole}x the whole)`);
}
