// The config's metadata: switches reach every target of their entry, and a GitHub repository captures everything
// unless switched off, while any other remote gets git data only.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captures } from '../src/capture-switches.ts';
import { resolveSettings } from '../src/config.ts';
import { createEngine } from '../src/engine/index.ts';
import { makeTempDir } from './helpers/git-fixtures.ts';

const SERVER = 'https://github.com';
const onGitHub = { owner: 'acme', name: 'widgets', id: 'acme/widgets', url: 'https://github.com/acme/widgets.git' };

describe('captures', () => {
  it('is on for a GitHub repository unless its entry switches it off', () => {
    expect(captures(onGitHub, 'wiki', SERVER)).toBe(true);
    expect(captures({ ...onGitHub, metadata: { lfs: true } }, 'wiki', SERVER)).toBe(true);
    expect(captures({ ...onGitHub, metadata: { wiki: false } }, 'wiki', SERVER)).toBe(false);
    expect(captures({ ...onGitHub, metadata: { wiki: false } }, 'lfs', SERVER)).toBe(true);
    expect(captures({ ...onGitHub, url: 'git@github.com:acme/widgets.git' }, 'lfs', SERVER)).toBe(true);
  });

  it('is off for a remote that is not on the server of GITHUB_API_URL, even when switched on', () => {
    for (const url of ['https://gitlab.com/acme/widgets.git', '/srv/git/acme/widgets.git', 'https://ghe.example/acme/widgets.git']) {
      expect(captures({ ...onGitHub, url, metadata: { wiki: true } }, 'wiki', SERVER)).toBe(false);
    }
    expect(captures({ ...onGitHub, url: 'https://ghe.example/acme/widgets.git' }, 'wiki', 'https://ghe.example')).toBe(true);
  });
});

describe('resolveTargets', () => {
  it('carries each entry\'s metadata: switches on its targets', async () => {
    const dir = makeTempDir('gpb-switches-');
    const config = join(dir, 'backup.config.yml');
    writeFileSync(config, ['repositories:', '  - repo: acme/widgets', '    metadata: { wiki: false, lfs: false }', '  - acme/gadgets', ''].join('\n'));
    const engine = createEngine({ settings: resolveSettings({ root: join(dir, 'backup'), configPath: config }, {}) });
    const targets = await engine.resolveTargets();
    const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
    expect(byId['acme/widgets']!.metadata).toEqual({ wiki: false, lfs: false });
    expect(byId['acme/gadgets']!.metadata).toBeUndefined();
  });
});
