// s3rver and a request-counting proxy in front of it, in a process of their own (the bench blocks its own event loop
// in spawnSync). argv: DIRECTORY BUCKET. Prints {"port":N} (the proxy) once listening; GET /__requests answers the
// number of S3 requests forwarded so far. Exits when its stdin closes. Runs under --openssl-legacy-provider, like
// test/helpers/s3rver-child.mjs, because s3rver 3.7.1 makes continuation tokens with DES.
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import { createRequire } from 'node:module';

const S3rver = createRequire(import.meta.url)('s3rver');
const [directory, bucket] = process.argv.slice(2);
const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
const { port: s3port } = await s3.run();

let requests = 0;
const proxy = createServer((req, res) => {
  if (req.url === '/__requests') {
    res.end(String(requests));
    return;
  }
  requests++;
  const upstream = request({ host: '127.0.0.1', port: s3port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
});
proxy.listen(0, '127.0.0.1');
await once(proxy, 'listening');
process.stdout.write(`${JSON.stringify({ port: proxy.address().port })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  proxy.closeAllConnections();
  proxy.close();
  void s3.close().finally(() => process.exit(0));
});
