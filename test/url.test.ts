// Remote URLs are the one user input that reaches git as an argument: transport helpers, option-looking values,
// control characters and embedded credentials must never get that far.
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../src/errors.ts';
import { validateRemoteUrl } from '../src/git/url.ts';

function rejection(raw: string): string {
  try {
    validateRemoteUrl(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.USAGE);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

describe('validateRemoteUrl accepts', () => {
  it.each([
    ['https://github.com/acme/widgets.git', 'https'],
    ['HTTPS://github.com/acme/widgets.git', 'https'],
    ['http://git.internal:8080/acme/widgets.git', 'http'],
    ['ssh://git@github.com/acme/widgets.git', 'ssh'],
    ['ssh://git@github.com:2222/acme/widgets.git', 'ssh'],
    ['git@github.com:acme/widgets.git', 'ssh'],
    ['file:///srv/git/acme/widgets.git', 'file'],
  ])('%s as %s, unchanged', (url, kind) => {
    expect(validateRemoteUrl(url)).toEqual({ url, kind });
  });

  it('local paths, resolved to absolute', () => {
    expect(validateRemoteUrl('/srv/git/acme/widgets.git')).toEqual({ url: '/srv/git/acme/widgets.git', kind: 'path' });
    expect(validateRemoteUrl('repos/widgets.git')).toEqual({ url: resolve('repos/widgets.git'), kind: 'path' });
    expect(validateRemoteUrl('./w.git').url).toBe(resolve('w.git'));
  });

  it('surrounding whitespace, trimmed (config files and copy-paste)', () => {
    expect(validateRemoteUrl('  https://github.com/a/b.git\t').url).toBe('https://github.com/a/b.git');
  });
});

describe('validateRemoteUrl rejects', () => {
  it.each(['ext::sh -c touch% /tmp/pwned', 'fd::17', 'EXT::sh', 'foo+bar::baz'])('transport helper %j', (raw) => {
    expect(rejection(raw)).toMatch(/transport helpers/);
  });

  it.each(['-uhelp', '--upload-pack=touch /tmp/x', '-', ' --config=core.sshCommand=x'])('option-looking %j', (raw) => {
    expect(rejection(raw)).toMatch(/start with "-"/);
  });

  it.each(['ssh://-oProxyCommand=touch%20x/a', 'https://-x/a'])('an option-looking host %j', (raw) => {
    expect(rejection(raw)).toMatch(/host looks like an option/);
  });

  it.each(['https://github.com/a\nb', 'https://github.com/a\rb', '/srv/a\0b', '/srv/a\tb', '/srv/a\x7fb', 'git@h:a\x1bb'])(
    'control characters in %j',
    (raw) => {
      expect(rejection(raw)).toMatch(/control characters/);
    },
  );

  it.each(['https://user:secret@github.com/a/b.git', 'http://x-access-token:ghp_abc@github.com/a/b', 'ssh://git:pw@github.com/a/b'])(
    'a password in %j, without echoing it',
    (raw) => {
      const message = rejection(raw);
      expect(message).toMatch(/password or token/);
      expect(message).not.toContain('secret');
      expect(message).not.toContain('ghp_abc');
    },
  );

  it.each(['https://ghp_0123456789abcdefghijklmnopqrstuvwxyz@github.com/a/b.git', 'http://token@git.internal/a/b'])(
    'a token in the user part of an http(s) URL %j (git would store it in the mirror config)',
    (raw) => {
      expect(rejection(raw)).toMatch(/password or token/);
    },
  );

  it.each(['ftp://host/a.git', 'git://github.com/a/b.git', 'javascript://x', 'rsync://h/a'])('scheme of %j', (raw) => {
    expect(rejection(raw)).toMatch(/scheme .* is not allowed/);
  });

  it.each(['', '   ', 'C:repo', 'host:path', 'mailto:x@y'])('ambiguous or empty %j', (raw) => {
    expect(() => validateRemoteUrl(raw)).toThrow(UsageError);
  });
});
