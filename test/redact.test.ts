// Every line that leaves the process passes through the Redactor: the token must not survive in any of the forms
// git or a user can produce (raw, inside the base64 Basic header, in URL userinfo, GitHub's token formats).
import { describe, expect, it } from 'vitest';
import { Redactor, stripCredentials } from '../src/redact.ts';

const TOKEN = 'ghp_FAKEfakeFAKEfake0123456789abcdefXYZ';

function redactorWith(...secrets: (string | undefined)[]): Redactor {
  const r = new Redactor();
  for (const s of secrets) r.add(s);
  return r;
}

describe('Redactor', () => {
  it('removes every occurrence of a registered secret', () => {
    const r = redactorWith('s3cr3t-value');
    expect(r.redact('a s3cr3t-value b s3cr3t-value')).toBe('a *** b ***');
  });

  it('removes the base64 Basic header form git sends', () => {
    const secret = 'plain-secret-123';
    const b64 = Buffer.from(`x-access-token:${secret}`).toString('base64');
    // Without the "authorization:" prefix, only the registered base64 form can catch it.
    const out = redactorWith(secret).redact(`trace: header ${b64} sent`);
    expect(out).not.toContain(b64);
    expect(out).toBe('trace: header *** sent');
  });

  it.each([
    ['AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Zm9v', 'AUTHORIZATION: basic ***'],
    ['Authorization: Bearer abc.def.ghi', 'Authorization: Bearer ***'],
    ["http.extraheader='authorization: token 123456'", "http.extraheader='authorization: token ***'"],
  ])('removes authorization header values it was never told about: %s', (input, expected) => {
    expect(new Redactor().redact(input)).toBe(expected);
  });

  it.each([
    ['fatal: could not read from https://user:pw@github.com/a/b.git', 'fatal: could not read from https://***@github.com/a/b.git'],
    ['https://x-access-token:abc@ghe.example/a', 'https://***@ghe.example/a'],
    ['remote http://tok@git.internal:8080/a.git', 'remote http://***@git.internal:8080/a.git'],
  ])('removes URL userinfo: %s', (input, expected) => {
    expect(new Redactor().redact(input)).toBe(expected);
  });

  it('leaves an @ in a URL path alone', () => {
    expect(new Redactor().redact('https://github.com/acme/w@v1')).toBe('https://github.com/acme/w@v1');
  });

  it.each([
    TOKEN,
    'gho_abcdefghijklmnopqrstuvwxyz0123',
    'ghs_abcdefghijklmnopqrstuvwxyz0123',
    'ghu_abcdefghijklmnopqrstuvwxyz0123',
    'ghr_abcdefghijklmnopqrstuvwxyz0123',
    'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz',
  ])('removes GitHub token formats it was never told about: %s', (token) => {
    const out = new Redactor().redact(`error: token ${token} rejected`);
    expect(out).toBe('error: token *** rejected');
  });

  it('leaves short ghp_-like words and ordinary text alone', () => {
    const text = 'ghp_short and refs/heads/main at 0123456789abcdef0123456789abcdef01234567';
    expect(new Redactor().redact(text)).toBe(text);
  });

  it('ignores empty and very short secrets (redacting "a" would shred every line)', () => {
    const r = redactorWith(undefined, '', 'abc');
    expect(r.redact('a b c abc')).toBe('a b c abc');
  });

  it('redacts a token that appears in several forms on one line', () => {
    const b64 = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');
    const line = `https://x:${TOKEN}@github.com AUTHORIZATION: basic ${b64} raw=${TOKEN}`;
    const out = redactorWith(TOKEN).redact(line);
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain(b64);
    expect(out).not.toContain(TOKEN.slice(4, 20));
  });
});

describe('stripCredentials', () => {
  it.each([
    ['https://user:pw@github.com/acme/widgets.git', 'https://github.com/acme/widgets.git'],
    [`https://${TOKEN}@github.com/acme/widgets.git`, 'https://github.com/acme/widgets.git'],
    ['https://github.com/acme/widgets.git', 'https://github.com/acme/widgets.git'],
    ['ssh://git:pw@github.com/acme/widgets.git', 'ssh://github.com/acme/widgets.git'],
  ])('%s -> %s', (input, expected) => {
    expect(stripCredentials(input)).toBe(expected);
  });

  it('leaves scp-like addresses and paths as they are', () => {
    expect(stripCredentials('git@github.com:acme/widgets.git')).toBe('git@github.com:acme/widgets.git');
    expect(stripCredentials('/srv/git/acme/widgets.git')).toBe('/srv/git/acme/widgets.git');
  });
});

describe('Redactor.redactDeep', () => {
  it('redacts every string in a nested report and leaves other values and the shape alone', () => {
    const r = new Redactor();
    r.add(TOKEN);
    const report = { repo: 'acme/w', count: 3, ok: false, problems: [{ file: 'config', problem: `url has ${TOKEN}`, sharedWith: [`x${TOKEN}`] }], none: null };
    expect(r.redactDeep(report)).toEqual({ repo: 'acme/w', count: 3, ok: false, problems: [{ file: 'config', problem: 'url has ***', sharedWith: ['x***'] }], none: null });
    expect(JSON.stringify(report)).toContain(TOKEN); // the input is not modified
  });
});

describe('Redactor: encoded forms of secrets with +/= characters', () => {
  // An AWS secret key's shape: base64-ish, with "+" and "/"; a session token may end in "=".
  const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCY/EXAMPLE+KEY==';
  const r = redactorWith(SECRET);
  const encoded = encodeURIComponent(SECRET);
  const header = Buffer.from(`x-access-token:${SECRET}`).toString('base64');

  it.each([
    ['raw', SECRET],
    ['encodeURIComponent', encoded],
    ['lower-case %xx', encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ['mixed-case %xx', encoded.replace('%2F', '%2f')],
    ['form encoding (URLSearchParams)', new URLSearchParams({ k: SECRET }).toString().slice(2)],
    ['every character percent-encoded', [...Buffer.from(SECRET)].map((b) => `%${b.toString(16)}`).join('')],
    ['base64 Basic header', header],
    ['URL-encoded base64 Basic header', encodeURIComponent(header)],
    ['base64url Basic header', Buffer.from(`x-access-token:${SECRET}`).toString('base64url')],
    ['base64 of the bare secret', Buffer.from(SECRET).toString('base64')],
  ])('%s', (_label, form) => {
    expect(r.redact(`error: echo ${form} end`)).toBe('error: echo *** end');
  });

  it('a secret with a space also matches its "+" form encoding', () => {
    expect(redactorWith('pass phrase 123').redact('p=pass+phrase%20123')).toBe('p=***');
  });

  it('does not redact text that merely resembles the secret', () => {
    const near = SECRET.replace('K7', 'K8');
    expect(r.redact(near)).toBe(near);
  });
});

describe('Redactor: age identities', () => {
  it('removes an age identity it was never told about', () => {
    const identity = `AGE-SECRET-KEY-1${'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L'.repeat(2).slice(0, 58)}`;
    expect(new Redactor().redact(`key ${identity} loaded`)).toBe('key *** loaded');
  });
});

describe('redactDebugOutput', () => {
  it('routes the debug library (the one the git executor logs through) through every registered secret', async () => {
    const { default: createDebug } = await import('debug');
    const { redactDebugOutput } = await import('../src/debug-redact.ts');
    const { redactEverySecret } = await import('../src/redact.ts');
    const secret = 'debug+secret/value=0042';
    redactorWith(secret); // registered with some Redactor of this process, as the engine does with the token
    expect(redactEverySecret(`x ${secret} y`)).toBe('x *** y');
    redactDebugOutput();
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => written.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      const log = createDebug('gpb-redact-test');
      log.enabled = true;
      log('spawn %O', { env: { GPB_GIT_AUTH_HEADER: `AUTHORIZATION: basic ${Buffer.from(`x-access-token:${secret}`).toString('base64')}`, echoed: encodeURIComponent(secret) } });
    } finally {
      process.stderr.write = original;
    }
    const text = written.join('');
    expect(text).toContain('gpb-redact-test spawn');
    expect(text).toContain('AUTHORIZATION: basic ***');
    expect(text).toContain("echoed: '***'");
    expect(text).not.toContain(encodeURIComponent(secret));
  });
});
