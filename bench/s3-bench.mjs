// What the store benches share (docs/BENCHMARKS.md): s3rver behind a request-counting proxy in a process of its own
// (bench/s3-bench-server.mjs; the benches block their own event loop in spawnSync), and the plain download of a
// list of objects with the same client the tool uses (@aws-sdk/client-s3), 4 at a time, as the reference a
// restore from the store is measured against.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER = join(REPO_ROOT, 'bench', 's3-bench-server.mjs');

/** s3rver holding `bucket` in `directory`: its proxy's URL, count() of requests so far, stop(). */
export async function startS3(directory, bucket) {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', SERVER, directory, bucket], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [chunk] = await once(child.stdout, 'data');
  child.stdout.resume();
  const url = `http://127.0.0.1:${JSON.parse(String(chunk).split('\n')[0]).port}`;
  const count = () => Number(spawnSync(process.execPath, ['-e', `fetch(${JSON.stringify(`${url}/__requests`)}).then((r) => r.text()).then((t) => process.stdout.write(t))`], { encoding: 'utf8' }).stdout);
  const stop = async () => {
    child.stdin.end();
    await once(child, 'exit');
  };
  return { url, count, stop };
}

const DOWNLOAD_SCRIPT = `
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createWriteStream, mkdirSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
const [endpoint, bucket, dest, ...keys] = process.argv.slice(1);
const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
mkdirSync(dest, { recursive: true });
let next = 0;
await Promise.all(Array.from({ length: 4 }, async () => {
  while (next < keys.length) {
    const i = next++;
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keys[i] }));
    await pipeline(out.Body, createWriteStream(join(dest, String(i))));
  }
}));
`;

/**
 * Download `keys` (full keys in the bucket) into `dest` as files named 0, 1, … in a child process; returns its
 * milliseconds, process start included (as for the CLI it is compared with). `env` carries the AWS credentials.
 */
export function downloadObjects({ endpoint, bucket, dest, keys, env }) {
  const started = performance.now();
  const dl = spawnSync(process.execPath, ['--input-type=module', '-e', DOWNLOAD_SCRIPT, endpoint, bucket, dest, ...keys], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  if (dl.status !== 0) throw new Error(`download baseline failed: ${dl.stderr}`);
  return performance.now() - started;
}
