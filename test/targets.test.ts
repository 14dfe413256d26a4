// Every way a user can name a repository (owner/name, https, ssh, file://, a path) must land on the same
// owner/name directory, and two different sources for one name must be refused rather than fight over one mirror.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../src/errors.ts';
import { dedupeTargets, explicitTarget, parseRepoSpec, serverUrlFromApiUrl } from '../src/targets.ts';

const SERVER = 'https://github.com';

describe('parseRepoSpec', () => {
  it('owner/name becomes a URL on the server', () => {
    expect(parseRepoSpec('acme/widgets', SERVER)).toEqual({ owner: 'acme', name: 'widgets', id: 'acme/widgets', url: 'https://github.com/acme/widgets.git' });
    expect(parseRepoSpec('acme/widgets.git', SERVER).id).toBe('acme/widgets');
    expect(parseRepoSpec('acme/widgets', 'https://ghe.example').url).toBe('https://ghe.example/acme/widgets.git');
  });

  it.each([
    ['https://github.com/acme/widgets.git', 'https://github.com/acme/widgets.git'],
    ['https://github.com/acme/widgets', 'https://github.com/acme/widgets'],
    ['https://github.com/acme/widgets/', 'https://github.com/acme/widgets/'],
    ['git@github.com:acme/widgets.git', 'git@github.com:acme/widgets.git'],
    ['ssh://git@github.com/acme/widgets.git', 'ssh://git@github.com/acme/widgets.git'],
    ['ssh://git@github.com:2222/acme/widgets.git', 'ssh://git@github.com:2222/acme/widgets.git'],
    ['file:///srv/git/acme/widgets.git', 'file:///srv/git/acme/widgets.git'],
    ['/srv/git/acme/widgets.git', '/srv/git/acme/widgets.git'],
  ])('%s is acme/widgets fetched from %s', (spec, url) => {
    expect(parseRepoSpec(spec, SERVER)).toEqual({ owner: 'acme', name: 'widgets', id: 'acme/widgets', url });
  });

  it('a relative path is resolved, and its parent directory is the owner', () => {
    const t = parseRepoSpec('./acme/widgets.git', SERVER);
    expect(t.id).toBe('acme/widgets');
    expect(t.url).toBe(resolve('acme/widgets.git'));
  });

  it('a local path whose parent is not a valid owner falls under "local"', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpb targets_'));
    expect(parseRepoSpec(join(dir, 'widgets.git'), SERVER)).toMatchObject({ owner: 'local', name: 'widgets', id: 'local/widgets' });
    expect(parseRepoSpec('file:///srv/my%20repos/widgets.git', SERVER)).toMatchObject({ id: 'local/widgets' });
  });

  it('percent-encoding in URL paths is decoded before naming', () => {
    expect(parseRepoSpec('https://github.com/acme/wid%67ets.git', SERVER).id).toBe('acme/widgets');
  });

  it.each([
    ['https://github.com/acme/..', /invalid repository/], // the URL parser folds '..' away; what is left is no repository
    ['https://github.com/-acme/widgets.git', /invalid repository owner/],
    ['git@github.com:acme/-rf.git', /invalid repository name/],
    ['/srv/git/acme/.git', /invalid repository name/],
    ['ext::sh -c x', /transport helpers/],
    ['--upload-pack=x/y', /invalid repository owner/], // looks like owner/name: refused as an owner
    ['--upload-pack=x', /start with "-"/],
    ['ftp://host/acme/widgets.git', /scheme/],
  ])('%s is refused', (spec, message) => {
    expect(() => parseRepoSpec(spec, SERVER)).toThrow(message);
    try {
      parseRepoSpec(spec, SERVER);
    } catch (error) {
      expect((error as UsageError).exitCode).toBe(ExitCode.USAGE);
    }
  });
});

describe('explicitTarget', () => {
  it('takes the name from the user and the source from the URL', () => {
    expect(explicitTarget('acme/widgets', '/srv/elsewhere/w.git')).toEqual({ owner: 'acme', name: 'widgets', id: 'acme/widgets', url: '/srv/elsewhere/w.git' });
  });

  it.each(['acme', 'acme/widgets/extra', '../widgets', 'acme/..'])('refuses the name %j', (repo) => {
    expect(() => explicitTarget(repo, '/srv/w.git')).toThrow(UsageError);
  });

  it('validates the URL too', () => {
    expect(() => explicitTarget('acme/widgets', 'ext::sh')).toThrow(/transport helpers/);
  });
});

describe('dedupeTargets', () => {
  it('merges exact duplicates and sorts by id', () => {
    const a = parseRepoSpec('acme/zeta', SERVER);
    const b = parseRepoSpec('acme/alpha', SERVER);
    expect(dedupeTargets([a, b, parseRepoSpec('acme/zeta', SERVER)]).map((t) => t.id)).toEqual(['acme/alpha', 'acme/zeta']);
  });

  it('refuses one owner/name from two different sources, naming both', () => {
    const fromGithub = parseRepoSpec('acme/widgets', SERVER);
    const fromDisk = parseRepoSpec('/srv/git/acme/widgets.git', SERVER);
    expect(fromGithub.id).toBe(fromDisk.id);
    expect(() => dedupeTargets([fromGithub, fromDisk])).toThrow(UsageError);
    expect(() => dedupeTargets([fromGithub, fromDisk])).toThrow(/acme\/widgets.*github\.com\/acme\/widgets\.git.*\/srv\/git\/acme\/widgets\.git/);
  });

  it('treats owner/name and its URL spelled with or without .git as one source', () => {
    const specs = ['acme/widgets', 'https://GitHub.com/acme/widgets', 'https://github.com/acme/widgets.git/'];
    expect(dedupeTargets(specs.map((s) => parseRepoSpec(s, SERVER))).map((t) => t.id)).toEqual(['acme/widgets']);
  });

  it('keeps an empty list empty', () => {
    expect(dedupeTargets([])).toEqual([]);
  });
});

describe('serverUrlFromApiUrl', () => {
  it.each([
    ['https://api.github.com', 'https://github.com'],
    ['https://ghe.example/api/v3', 'https://ghe.example'],
    ['http://api.localhost:8080', 'http://localhost:8080'],
    ['http://127.0.0.1:9000/', 'http://127.0.0.1:9000'],
  ])('%s serves clones from %s', (api, server) => {
    expect(serverUrlFromApiUrl(api)).toBe(server);
  });
});
