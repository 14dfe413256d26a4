// The store section of `npm run bench` (issue 9, docs/BENCHMARKS.md): 30 simulated days of `sync` pushing to a real
// S3 API (s3rver on 127.0.0.1, behind a proxy that counts requests), measured in the same run:
//   - bytes uploaded per day, as a ratio to the pack bytes that day's fetch brought (target <= 1.05x plus the manifest);
//   - store size after 30 days, as a ratio to the mirror (target <= 1.3x);
//   - requests per repository on a day with nothing new (target <= 3);
//   - `restore --from-store` timed against downloading the same objects with the same client (@aws-sdk/client-s3).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { downloadObjects, startS3 } from './s3-bench.mjs';

const BUCKET = 'bench';
const PREFIX = 'store';

/** Size of every object s3rver holds under the store's prefix, by key. */
function storedObjects(directory) {
  const base = join(directory, BUCKET, PREFIX);
  const out = new Map();
  const walk = (dir, rel) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const key = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path, key);
      else if (entry.name.endsWith('._S3rver_object')) out.set(key.slice(0, -'._S3rver_object'.length), statSync(path).size);
    }
  };
  if (existsSync(base)) walk(base, '');
  return out;
}

/** A manifest as s3rver holds it (gzip-compressed JSON, docs/STORE_FORMAT.md), unencrypted in this bench. */
function readStoredManifest(directory, snapshot) {
  return JSON.parse(gunzipSync(readFileSync(join(directory, BUCKET, PREFIX, 'snapshots', 'bench', 'big', `${snapshot}.json.gz._S3rver_object`))).toString('utf8'));
}

/** Sizes of the mirror's pack files (.pack, .idx, .rev, .bitmap) by name. */
function packFiles(mirror) {
  const dir = join(mirror, 'objects', 'pack');
  return new Map(readdirSync(dir).map((name) => [name, statSync(join(dir, name)).size]));
}

/**
 * h: the main bench's helpers and paths (bench/snapshot-bench.mjs): { work, days, reps, env, cli(args, env), run,
 * paths: { upstream, root, mirror, repoUrl }, upstreamDay(day), nextSecond, diskUsage, median, fmtBytes, fmtMs, log }.
 */
export async function storeSection(h) {
  const s3dir = join(h.work, 's3rver');
  mkdirSync(s3dir, { recursive: true });
  const s3 = await startS3(s3dir, BUCKET);
  const env = { ...h.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'bench-secret', AWS_REGION: 'us-east-1' };
  const { root, mirror, repoUrl } = h.paths;
  const config = join(h.work, 'store.config.json');
  const store = { url: `s3://${BUCKET}/${PREFIX}`, endpoint: s3.url, region: 'us-east-1', forcePathStyle: true };
  writeFileSync(config, JSON.stringify({ root, repositories: [repoUrl], store }));
  const sync = () => JSON.parse(h.cli(['sync', '--config', config, '--json'], env).stdout).outcomes[0];

  try {
    const first = sync();
    if (!first.ok) throw new Error(`first sync failed: ${first.error}`);
    h.log(`\n== store: day 0 pushed ${first.value.pushed.snapshots.length} snapshot, ${h.fmtBytes(first.value.pushed.uploadedBytes)} (mirror ${h.fmtBytes(h.diskUsage([mirror]))})`);

    const ratios = [];
    const ratiosWithManifest = [];
    const manifestPerPack = [];
    const ratiosAllPackFiles = [];
    const dayRequests = [];
    let manifestBytes = 0;
    // Where the uploaded bytes went, over all days: which files of the snapshot were new objects.
    const uploadedByKind = { packs: 0, 'pack indexes': 0, 'packed-refs': 0, 'snapshot.json': 0, other: 0 };
    const kindOf = (path) => (/^objects\/pack\/.*\.pack$/.test(path) ? 'packs' : /^objects\/pack\/.*\.(idx|rev)$/.test(path) ? 'pack indexes' : path in uploadedByKind ? path : 'other');
    for (let day = 1; day <= h.days; day++) {
      const objectsBefore = storedObjects(s3dir);
      h.upstreamDay(day);
      h.nextSecond();
      const before = packFiles(mirror);
      const requestsBefore = s3.count();
      const outcome = sync();
      dayRequests.push(s3.count() - requestsBefore);
      if (!outcome.ok) throw new Error(`day ${day}: ${outcome.error}`);
      const { pushed, snapshot } = outcome.value;
      const added = [...packFiles(mirror)].filter(([name]) => !before.has(name));
      const packBytes = added.filter(([name]) => name.endsWith('.pack')).reduce((n, [, size]) => n + size, 0);
      const allPackBytes = added.reduce((n, [, size]) => n + size, 0);
      const manifest = storedObjects(s3dir).get(`snapshots/bench/big/${snapshot.name}.json.gz`) ?? 0;
      manifestBytes = manifest;
      const pushedManifest = readStoredManifest(s3dir, snapshot.name);
      const seen = new Set();
      // Files the manifest carries (snapshot.json, packed-refs) and pack indexes derived from their packs have no
      // key: the first are in the manifest's bytes, the others are rebuilt on pull.
      for (const f of pushedManifest.files) {
        if (!f.key || objectsBefore.has(f.key) || seen.has(f.key)) continue;
        seen.add(f.key);
        uploadedByKind[kindOf(f.path)] += f.storedSize;
      }
      ratios.push((pushed.uploadedBytes - manifest) / packBytes);
      ratiosWithManifest.push(pushed.uploadedBytes / packBytes);
      manifestPerPack.push(manifest / packBytes);
      ratiosAllPackFiles.push((pushed.uploadedBytes - manifest) / allPackBytes);
    }
    const objects = storedObjects(s3dir);
    const storeBytes = [...objects.values()].reduce((n, s) => n + s, 0);
    const mirrorBytes = h.diskUsage([mirror]);

    const before = s3.count();
    const quiet = sync();
    if (!quiet.ok || quiet.value.snapshot) throw new Error('the quiet day took a snapshot or failed');
    const quietRequests = s3.count() - before;

    // Restore onto nothing vs downloading the same objects with the same client, alternating, median.
    const newest = JSON.parse(h.cli(['store', 'list', '--config', config, '--json'], env).stdout).outcomes[0].value.snapshots.at(-1).name;
    const manifest = readStoredManifest(s3dir, newest);
    const keys = [...new Set(manifest.files.filter((f) => f.key).map((f) => `${PREFIX}/${f.key}`))];
    const restoreMs = [];
    const downloadMs = [];
    for (let i = 0; i < h.reps; i++) {
      const to = join(h.work, `restored-${i}.git`);
      restoreMs.push(h.cli(['restore', newest, '--from-store', '--config', config, '--repo', repoUrl, '--to', to], env).ms);
      rmSync(to, { recursive: true, force: true });
      const dest = join(h.work, `downloaded-${i}`);
      downloadMs.push(downloadObjects({ endpoint: s3.url, bucket: BUCKET, dest, keys, env }));
      rmSync(dest, { recursive: true, force: true });
    }

    const fmt = (x) => `${x.toFixed(3)}x`;
    const results = {
      uploadPerPackMedian: h.median(ratios),
      uploadPerPackMax: Math.max(...ratios),
      uploadWithManifestPerPackMedian: h.median(ratiosWithManifest),
      manifestPerPackMedian: h.median(manifestPerPack),
      uploadPerPackFilesMedian: h.median(ratiosAllPackFiles),
      manifestBytes,
      storeBytes,
      mirrorBytes,
      storePerMirror: storeBytes / mirrorBytes,
      quietDayRequests: quietRequests,
      newDayRequestsMedian: h.median(dayRequests),
      restoreMs: h.median(restoreMs),
      downloadMs: h.median(downloadMs),
      restorePerDownload: h.median(restoreMs) / h.median(downloadMs),
      objects: objects.size,
      uploadedByKind,
    };
    h.log(`bytes uploaded per day / new .pack bytes (manifest excluded): median ${fmt(results.uploadPerPackMedian)}, max ${fmt(results.uploadPerPackMax)}  (target <= 1.05x)`);
    h.log(`  with the manifest: median ${fmt(results.uploadWithManifestPerPackMedian)} (the manifest, ${h.fmtBytes(manifestBytes)} on the last day, is median ${fmt(results.manifestPerPackMedian)} the day's pack)`);
    h.log(`  the same against all new pack files (.pack + .idx + .rev), manifest excluded: median ${fmt(results.uploadPerPackFilesMedian)}`);
    h.log(`  uploaded over ${h.days} days by file: ${Object.entries(uploadedByKind).map(([k, v]) => `${k} ${h.fmtBytes(v)}`).join(', ')}`);
    h.log(`store after ${h.days} days: ${h.fmtBytes(storeBytes)} in ${objects.size} objects, mirror ${h.fmtBytes(mirrorBytes)}: ${fmt(results.storePerMirror)}  (target <= 1.3x)`);
    h.log(`requests on a day with nothing new: ${quietRequests} for 1 repository  (target <= 3); on a day with a new snapshot: median ${results.newDayRequestsMedian}`);
    h.log(`restore --from-store ${h.fmtMs(results.restoreMs)} vs downloading its ${keys.length} objects ${h.fmtMs(results.downloadMs)}: ${fmt(results.restorePerDownload)} (median of ${h.reps}, both child processes)`);
    return results;
  } finally {
    await s3.stop();
  }
}
