// s3rver in its own process, for test/helpers/s3-standin.ts. It runs under --openssl-legacy-provider because
// s3rver 3.7.1 makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3 has only in its legacy provider.
// argv: DIRECTORY BUCKET... Prints {"port":N} once listening; exits when its stdin closes (the parent is gone).
import { createRequire } from 'node:module';

const S3rver = createRequire(import.meta.url)('s3rver');
const [directory, ...buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: process.env.S3RVER_VERBOSE !== '1',
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void server.close().finally(() => process.exit(0));
});
