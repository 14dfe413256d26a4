// The config templates and the reader for configs we did not write, checked against what the real git reads.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreignConfigEntries, mirrorConfig, parseConfig, renderConfig, restoredConfig, snapshotConfig, type ConfigEntry } from '../src/git/config-template.ts';
import { makeTempDir } from './helpers/git-fixtures.ts';

/** What git itself reads from a config file: key=value pairs, keys as git prints them. */
function gitList(file: string): ConfigEntry[] {
  const out = execFileSync('git', ['config', '--file', file, '--list', '--null'], { encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  return out.split('\0').filter(Boolean).map((entry) => {
    const newline = entry.indexOf('\n');
    return newline < 0 ? [entry, 'true'] : [entry.slice(0, newline), entry.slice(newline + 1)];
  });
}

function fileWith(text: string): string {
  const file = join(makeTempDir('gpb-config-'), 'config');
  writeFileSync(file, text);
  return file;
}

const TEMPLATES: Record<string, ConfigEntry[]> = {
  mirror: mirrorConfig({ url: 'https://github.com/acme/widgets.git', includePullRefs: false }),
  'mirror with pull refs': mirrorConfig({ url: '/srv/git/acme/widgets.git', includePullRefs: true }),
  snapshot: snapshotConfig(),
  'restored bare': restoredConfig({ bare: true }),
  'restored checkout': restoredConfig({ bare: false }),
};

describe('config templates', () => {
  for (const [name, entries] of Object.entries(TEMPLATES)) {
    it(`${name}: git reads exactly the entries we render, and the reader accepts them as ours`, () => {
      const text = renderConfig(entries);
      expect(gitList(fileWith(text))).toEqual(entries);
      expect(parseConfig(text)).toEqual(entries);
      expect(foreignConfigEntries(text)).toEqual([]);
    });
  }

  it('carries transfer.credentialsInUrl=die everywhere and a remote only in the mirror', () => {
    for (const entries of Object.values(TEMPLATES)) expect(entries).toContainEqual(['transfer.credentialsinurl', 'die']);
    expect(TEMPLATES.mirror!.filter(([k]) => k.startsWith('remote.'))).toEqual([
      ['remote.origin.url', 'https://github.com/acme/widgets.git'],
      ['remote.origin.fetch', '+refs/*:refs/*'],
      ['remote.origin.fetch', '^refs/pull/*'],
      ['remote.origin.mirror', 'true'],
    ]);
    for (const name of ['snapshot', 'restored bare', 'restored checkout']) expect(TEMPLATES[name]!.some(([k]) => k.startsWith('remote.'))).toBe(false);
  });

  it('refuses to render a URL git must not be given', () => {
    expect(() => mirrorConfig({ url: 'ext::sh -c touch% /tmp/x', includePullRefs: false })).toThrow(/transport helpers/);
    expect(() => mirrorConfig({ url: 'https://ghp_secret@github.com/a/b', includePullRefs: false })).toThrow(/password or token/);
  });
});

describe('reading a config we did not write', () => {
  it('reads values as git does: quotes, escapes, inline comments, spacing', () => {
    const dir = makeTempDir('gpb-config-');
    const file = join(dir, 'config');
    writeFileSync(file, '');
    const values = ['a "quoted" #not-a-comment; x', ' leading and trailing ', 'back\\slash', 'tab\there'];
    for (const [i, value] of values.entries()) execFileSync('git', ['config', '--file', file, `sec.sub${i}.key`, value]);
    const text = `${execFileSync('cat', [file], { encoding: 'utf8' })}[plain]\n\tflag\n\tspaced   =   value  ; trailing comment\n[old.Style]\n\tKey = v\n`;
    writeFileSync(file, text);
    expect(parseConfig(text)).toEqual(gitList(file));
  });

  it('what an earlier version\'s git config calls wrote into a mirror is ours', () => {
    const dir = makeTempDir('gpb-config-');
    execFileSync('git', ['init', '--bare', '--quiet', '--template=', dir]);
    const set = (...args: string[]) => execFileSync('git', ['config', ...args], { cwd: dir });
    set('remote.origin.url', 'https://github.com/acme/widgets.git');
    set('remote.origin.fetch', '+refs/*:refs/*');
    set('--add', 'remote.origin.fetch', '^refs/pull/*');
    set('remote.origin.mirror', 'true');
    set('gc.auto', '0');
    set('maintenance.auto', 'false');
    set('fetch.writeCommitGraph', 'false');
    set('core.logAllRefUpdates', 'false');
    set('fetch.unpackLimit', '1');
    expect(foreignConfigEntries(execFileSync('cat', [join(dir, 'config')], { encoding: 'utf8' }))).toEqual([]);
  });

  it('names every setting we never write, and reads nothing an include points to', () => {
    const planted = [
      '[core]\n\tbare = true\n\tfsmonitor = "touch /tmp/x"\n',
      '[remote "origin"]\n\turl = /srv/x.git\n\tuploadpack = touch /tmp/x; git-upload-pack\n',
      '[url "/srv/decoy.git"]\n\tpushInsteadOf = /srv/named.git\n',
      '[include]\n\tpath = /etc/gitconfig-evil\n',
      '[includeIf "gitdir:/"]\n\tpath = /etc/gitconfig-evil\n',
      '[remote "Origin"]\n\turl = /srv/x.git\n',
    ];
    const expected = ['core.fsmonitor', 'remote.origin.uploadpack', 'url./srv/decoy.git.pushinsteadof', 'include.path', 'includeif.gitdir:/.path', 'remote.Origin.url'];
    for (const [i, text] of planted.entries()) {
      expect(foreignConfigEntries(text)).toEqual([`${expected[i]}: a setting this tool never writes`]);
    }
    expect(foreignConfigEntries('[remote "origin"]\n\turl = ext::sh -c touch% /tmp/x\n')).toEqual(['remote.origin.url: a value this tool never writes']);
    expect(foreignConfigEntries('[gc]\n\tauto = 1\n')).toEqual(['gc.auto: a value this tool never writes']);
  });

  it('treats what git accepts but we never write as not ours', () => {
    for (const text of ['[core] bare = true\n', '[core]\n\tbare = tr\\\nue\n', 'bare = true\n', '[core]\n\tbare = "true\n', '[core]\n\tbare = \\q\n']) {
      expect(foreignConfigEntries(text)).toHaveLength(1);
      expect(foreignConfigEntries(text)[0]).toMatch(/^not a config this tool writes: line \d/);
    }
  });
});
