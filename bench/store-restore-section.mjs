// The restore-from-the-store part of bench/restore-bench.mjs (docs/BENCHMARKS.md "Restore from the store"): the
// snapshot the restore bench took is pushed to a local-directory store and to s3rver on 127.0.0.1, then restored
// from each onto nothing (`restore --from-store --to`), beside, in the same run, what its steps cost alone on the
// same bytes: a plain copy or download of the manifest's objects, `sha256sum` of them, `git index-pack` on every
// pack (what a restore costs when every index is derived), and `git fsck --connectivity-only` (measured by the
// caller). Inside the restore, git's own index-pack and fsck times come from its trace (DEBUG=backup-manager:git).
import { cpus } from 'node:os';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { downloadObjects, startS3 } from './s3-bench.mjs';

const BUCKET = 'bench';
const PREFIX = 'store';
const INDEX_PACK_THREADS = Math.max(1, Math.min(4, cpus().length));

/** Milliseconds git spent in each index-pack and fsck call of a traced run, from the start and end lines' times. */
function gitTimes(trace) {
  const open = new Map();
  const spent = { 'index-pack': 0, fsck: 0, indexPacks: 0 };
  for (const line of trace.split('\n')) {
    const started = /^(\S+Z) backup-manager:git git \[ (.*) \] in (\S+) with env/.exec(line);
    if (started) {
      const sub = /'(index-pack|fsck)'/.exec(started[2])?.[1];
      if (sub) open.set(started[3], { sub, at: Date.parse(started[1]) });
      continue;
    }
    const ended = /^(\S+Z) backup-manager:git git in (\S+) ended:/.exec(line);
    const call = ended && open.get(ended[2]);
    if (!call) continue;
    open.delete(ended[2]);
    spent[call.sub] += Date.parse(ended[1]) - call.at;
    if (call.sub === 'index-pack') spent.indexPacks++;
  }
  return spent;
}

/**
 * h: { work, env, run(cmd, args, options) -> {ms, stdout, stderr}, cli: path of the bundled CLI, root, repoUrl,
 * repo ('bench/large'), connectivityMs, s3 (false: the local-directory store only), log, fmtMs }.
 */
export async function storeRestoreSection(h) {
  const out = {};
  const rows = [];
  const cli = (args, env) => h.run(process.execPath, [h.cli, ...args], { env });
  const awsEnv = { ...h.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'bench-secret', AWS_REGION: 'us-east-1' };
  const s3dir = join(h.work, 's3rver');
  const s3 = h.s3 ? (mkdirSync(s3dir, { recursive: true }), await startS3(s3dir, BUCKET)) : null;
  const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  try {
    const stores = [{ kind: 'local directory', store: { url: `file://${join(h.work, 'dir-store')}` }, objectPath: (key) => join(h.work, 'dir-store', key) }];
    if (s3) {
      stores.push({
        kind: 's3rver',
        store: { url: `s3://${BUCKET}/${PREFIX}`, endpoint: s3.url, region: 'us-east-1', forcePathStyle: true },
        objectPath: (key) => join(s3dir, BUCKET, PREFIX, `${key}._S3rver_object`),
      });
    }
    for (const { kind, store, objectPath } of stores) {
      const config = join(h.work, `${kind.replace(/\W/g, '-')}.config.json`);
      writeFileSync(config, JSON.stringify({ root: h.root, repositories: [h.repoUrl], store }));
      const push = cli(['store', 'push', '--config', config, '--json'], awsEnv);
      const pushed = JSON.parse(push.stdout).outcomes[0].value;
      const name = pushed.snapshots.at(-1);
      const manifest = JSON.parse(gunzipSync(readFileSync(objectPath(`snapshots/${h.repo}/${name}.json.gz`))).toString('utf8'));
      const stored = manifest.files.filter((f) => f.key);
      const keys = [...new Set(stored.map((f) => f.key))];
      const packs = stored.filter((f) => f.path.endsWith('.pack'));
      const derivedPacks = new Set(manifest.files.filter((f) => f.derivedFrom).map((f) => f.derivedFrom));

      // References on the same bytes: the objects copied or downloaded as they are, their sha256, git's index of each pack.
      const dest = join(h.work, 'reference-objects');
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(dest);
      const downloadMs =
        kind === 's3rver'
          ? downloadObjects({ endpoint: s3.url, bucket: BUCKET, dest, keys: keys.map((k) => `${PREFIX}/${k}`), env: awsEnv })
          : h.run('cp', ['-t', dest, ...keys.map(objectPath)]).ms;
      const names = readdirSync(dest).map((n) => join(dest, n));
      const shaMs = h.run('sha256sum', names).ms;
      const pathOfPack = (pack) => (kind === 's3rver' ? join(dest, String(keys.indexOf(pack.key))) : join(dest, pack.key.split('/').at(-1)));
      const indexPack = (pack) => {
        const idx = join(h.work, 'reference.idx');
        const ms = h.run('git', ['index-pack', '--index-version=2', `--threads=${INDEX_PACK_THREADS}`, '--no-rev-index', '-o', idx, pathOfPack(pack)], { cwd: h.work }).ms;
        rmSync(idx, { force: true });
        return ms;
      };
      const indexMs = packs.map((p) => ({ derived: derivedPacks.has(p.path), ms: indexPack(p) }));
      rmSync(dest, { recursive: true, force: true });
      const indexAllMs = indexMs.reduce((n, p) => n + p.ms, 0);
      const indexDerivedMs = indexMs.filter((p) => p.derived).reduce((n, p) => n + p.ms, 0);

      const to = join(h.work, 'from-store.git');
      const restore = cli(['restore', name, '--from-store', '--config', config, '--repo', h.repoUrl, '--to', to], { ...awsEnv, DEBUG: 'backup-manager:git', DEBUG_COLORS: '0' });
      rmSync(to, { recursive: true, force: true });
      const inside = gitTimes(restore.stderr);
      const reference = downloadMs + shaMs + h.connectivityMs;
      const result = {
        pushMs: push.ms,
        uploadedBytes: pushed.uploadedBytes,
        storedBytes: manifest.totals.storedBytes,
        objects: keys.length,
        packs: packs.length,
        derivedPacks: derivedPacks.size,
        downloadMs,
        sha256Ms: shaMs,
        indexPackAllMs: indexAllMs,
        indexPackDerivedMs: indexDerivedMs,
        referenceMs: reference,
        restoreMs: restore.ms,
        restoreIndexPackMs: inside['index-pack'],
        restoreIndexPacks: inside.indexPacks,
        restoreFsckMs: inside.fsck,
        restorePerReference: restore.ms / reference,
      };
      out[kind] = result;
      rows.push(
        [`store push to a ${kind} store (first push)`, h.fmtMs(push.ms), '', `${mib(result.uploadedBytes)} uploaded, ${keys.length} objects, ${packs.length} pack(s), ${derivedPacks.size} with a derived index`],
        [`  ${kind === 's3rver' ? 'download of the same objects (@aws-sdk/client-s3, 4 at a time)' : 'cp of the same objects'}`, h.fmtMs(downloadMs), '', mib(manifest.totals.storedBytes)],
        ['  sha256sum of them', h.fmtMs(shaMs), '', ''],
        ['  git fsck --connectivity-only (above)', h.fmtMs(h.connectivityMs), '', ''],
        ['    download + sha256 + connectivity (reference)', h.fmtMs(reference), '1.00x', ''],
        ['  git index-pack of every pack (all indexes derived)', h.fmtMs(indexAllMs), `${(indexAllMs / reference).toFixed(2)}x`, `${INDEX_PACK_THREADS} thread(s)`],
        ['  git index-pack of the packs still derived', h.fmtMs(indexDerivedMs), '', ''],
        [
          `  restore --from-store --to (${kind})`,
          h.fmtMs(restore.ms),
          `${result.restorePerReference.toFixed(2)}x`,
          `of which git index-pack ${h.fmtMs(inside['index-pack'])} (${inside.indexPacks} run(s)), git fsck ${h.fmtMs(inside.fsck)}`,
        ],
      );
    }
  } finally {
    await s3?.stop();
  }
  return { results: out, rows };
}
