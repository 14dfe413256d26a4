// The token never leaves the process, even with the git executor's verbose logging on (DEBUG=backup-manager:*, what people
// turn on when a backup fails): the bundled CLI fetches over real HTTP from 127.0.0.1 (git-http-backend behind a
// CGI bridge, and a hostile server echoing the token it received, URL-encoded), and nothing it prints or writes
// holds the token in any form. The servers' records prove the token was really sent.
// `npm test` builds dist/ first; when running this file alone, run `npm run build` after changing src/.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUpstream, type Upstream } from './helpers/git-fixtures.ts';
import { runCli } from './helpers/cli.ts';
import { pktLine, startGitHttpServer, type GitHttpServer } from './helpers/git-http-server.ts';

// Not a GitHub token format (no static pattern can catch it) and full of characters URL encoding changes.
const TOKEN = 'Tk+3/xQ9=zz+abc/def+0123456789==';

/** Every form the token can take in output: what the Redactor must remove. */
function tokenForms(token: string): string[] {
  const header = Buffer.from(`x-access-token:${token}`).toString('base64');
  const encoded = encodeURIComponent(token);
  const form = new URLSearchParams({ t: token }).toString().slice(2);
  return [
    token,
    header,
    Buffer.from(token).toString('base64'),
    encoded,
    encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
    form,
    encodeURIComponent(header),
    // Stretches of the token long enough to identify it.
    token.slice(0, 12),
    token.slice(-12),
  ];
}

/** Every file under dir with its text (logs, state, the mirror's config, snapshots). */
function filesUnder(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) out.push(...filesUnder(path));
    else out.push({ path, text: readFileSync(path, 'latin1') });
  }
  return out;
}

function expectNoTokenIn(where: string, text: string): void {
  for (const form of tokenForms(TOKEN)) {
    expect(text.includes(form), `${where} contains the token form ${JSON.stringify(form)}`).toBe(false);
  }
}

function receivedToken(server: GitHttpServer): string[] {
  return server.requests
    .map((r) => /^basic (.+)$/i.exec(r.headers.authorization ?? '')?.[1])
    .filter((b64): b64 is string => b64 !== undefined)
    .map((b64) => Buffer.from(b64, 'base64').toString('utf8'));
}

let upstream: Upstream;

beforeAll(() => {
  upstream = createUpstream();
});

afterAll(() => {
  spawnSync('chmod', ['-R', 'u+w', upstream.tmp]);
  upstream.cleanup();
});

function env(server: GitHttpServer): Record<string, string> {
  // The token is scoped to the server GITHUB_API_URL points at: here the loopback server.
  return { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: `${server.url}/api/v3`, DEBUG: 'backup-manager:*', DEBUG_COLORS: '0' };
}

describe('DEBUG=backup-manager:* output', () => {
  it('a sync over HTTP prints the git executor debug lines but no form of the token', async () => {
    const server = await startGitHttpServer(join(upstream.tmp, 'upstream'));
    const root = join(upstream.tmp, 'root-ok');
    try {
      const run = await runCli(['sync', '--root', root, '--repo', `${server.url}/acme/widgets.git`, '--verbose', '--json'], env(server));
      expect(run.stderr + run.stdout, run.stderr).toContain('"ok": true');
      expect(run.code, run.stderr).toBe(0);
      // Debug output is really on, and the spawn line with the child's environment really printed.
      expect(run.stderr).toMatch(/backup-manager:git git /);
      expect(run.stderr).toContain('GPB_GIT_AUTH_HEADER');
      expect(run.stderr).toMatch(/AUTHORIZATION: basic \*\*\*/);
      // The server received the token, so there was something to leak.
      expect(receivedToken(server)).toContain(`x-access-token:${TOKEN}`);
      expectNoTokenIn('stderr', run.stderr);
      expectNoTokenIn('stdout', run.stdout);
      const files = filesUnder(root);
      expect(files.some((f) => f.path.includes(`${join(root, 'logs')}/`))).toBe(true);
      for (const file of files) expectNoTokenIn(file.path, file.text);
    } finally {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a server that echoes the token it received, URL-encoded, in an error gets nothing past the redactor', async () => {
    // A smart-HTTP answer whose only line is an ERR packet carrying the received credential in every URL encoding;
    // git prints it as "remote error: ...".
    const server = await startGitHttpServer(join(upstream.tmp, 'upstream'), (request, response) => {
      const b64 = /^basic (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
      const received = Buffer.from(b64, 'base64').toString('utf8').replace(/^x-access-token:/, '');
      const encoded = encodeURIComponent(received);
      const echoed = [
        `token=${encoded}`,
        `lower=${encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`,
        `form=${new URLSearchParams({ t: received }).toString().slice(2)}`,
        `header=${encodeURIComponent(b64)}`,
      ].join(' ');
      response.writeHead(200, { 'content-type': 'application/x-git-upload-pack-advertisement' });
      response.end(`${pktLine('# service=git-upload-pack\n')}0000${pktLine(`ERR access denied for ${echoed}\n`)}`);
      return true;
    });
    const root = join(upstream.tmp, 'root-echo');
    try {
      const run = await runCli(['sync', '--root', root, '--repo', `${server.url}/acme/widgets.git`, '--verbose', '--json'], env(server));
      expect(run.code, run.stderr).not.toBe(0);
      expect(receivedToken(server)).toContain(`x-access-token:${TOKEN}`);
      // git did relay the server's message (redacted), so the echo reached our output.
      expect(run.stderr + run.stdout).toMatch(/access denied for token=\*\*\* lower=\*\*\* form=\*\*\* header=\*\*\*/);
      expectNoTokenIn('stderr', run.stderr);
      expectNoTokenIn('stdout', run.stdout);
      for (const file of filesUnder(root)) expectNoTokenIn(file.path, file.text);
    } finally {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
