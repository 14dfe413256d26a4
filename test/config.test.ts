// A config error must say which field is wrong and on which line, and exit 2; a valid file, the environment and
// the flags must combine in one documented order (flags > env > file > defaults).
import { mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, parseConfig, resolveSettings } from '../src/config.ts';
import { ExitCode, UsageError } from '../src/errors.ts';

function configError(text: string, source = 'backup.config.yml'): string {
  try {
    parseConfig(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(ExitCode.USAGE);
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
}

function writeConfig(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'gpb-config-')), name);
  writeFileSync(path, text);
  return path;
}

describe('parseConfig accepts', () => {
  it('a full YAML file, with defaults filled in for owner entries', () => {
    const config = parseConfig(
      [
        'root: /srv/backup',
        'retentionDays: 45',
        'keepMin: 3',
        'concurrency: 2',
        'includePullRefs: true',
        'repositories:',
        '  - acme/widgets',
        '  - repo: acme/gadgets',
        '    url: /srv/git/gadgets.git',
        '  - owner: acme-org',
        '    type: org',
        '    exclude: [old-thing]',
      ].join('\n'),
      'backup.config.yml',
    );
    expect(config).toEqual({
      root: '/srv/backup',
      retentionDays: 45,
      keepMin: 3,
      concurrency: 2,
      includePullRefs: true,
      repositories: [
        'acme/widgets',
        { repo: 'acme/gadgets', url: '/srv/git/gadgets.git' },
        { owner: 'acme-org', type: 'org', includeArchived: false, includeForks: false, exclude: ['old-thing'] },
      ],
    });
  });

  it('an owner entry with only a name, typed "auto"', () => {
    expect(parseConfig('repositories:\n  - owner: someone\n', 'c.yml').repositories).toEqual([
      { owner: 'someone', type: 'auto', includeArchived: false, includeForks: false, exclude: [] },
    ]);
  });

  it('metadata: switches on a repository entry and on an owner entry', () => {
    const config = parseConfig(
      ['repositories:', '  - repo: acme/widgets', '    metadata: { wiki: false }', '  - owner: acme-org', '    metadata:', '      lfs: false', '      wiki: true'].join('\n'),
      'c.yml',
    );
    expect(config.repositories).toEqual([
      { repo: 'acme/widgets', metadata: { wiki: false } },
      { owner: 'acme-org', type: 'auto', includeArchived: false, includeForks: false, exclude: [], metadata: { lfs: false, wiki: true } },
    ]);
  });

  it('JSON when the file ends in .json', () => {
    expect(parseConfig('{"repositories": ["acme/widgets"], "keepMin": 0}', 'c.json')).toEqual({ repositories: ['acme/widgets'], keepMin: 0 });
  });

  it('a file with only the repositories it needs', () => {
    expect(parseConfig('repositories: []\n', 'c.yml')).toEqual({ repositories: [] });
  });
});

describe('parseConfig refuses, naming the field and the line', () => {
  it('an unknown top-level field', () => {
    expect(configError('retentionDays: 30\nretentionDayz: 10\n')).toMatch(/backup\.config\.yml:2: retentionDayz: unknown field/);
  });

  it('an unknown field inside a repository entry, at its own line', () => {
    const message = configError('repositories:\n  - acme/widgets\n  - repo: acme/gadgets\n    urll: /srv/x.git\n');
    expect(message).toMatch(/:4: repositories\.1\.urll: unknown field/);
  });

  it('a wrong type', () => {
    expect(configError('root: /b\n\nretentionDays: "thirty"\n')).toMatch(/backup\.config\.yml:3: retentionDays: .*expected number/);
    expect(configError('includePullRefs: yes please\n')).toMatch(/:1: includePullRefs: .*expected boolean/);
  });

  it('out-of-range numbers', () => {
    expect(configError('concurrency: 33\n')).toMatch(/:1: concurrency: .*32/);
    expect(configError('keepMin: -1\n')).toMatch(/:1: keepMin:/);
    expect(configError('retentionDays: 1.5\n')).toMatch(/:1: retentionDays:/);
  });

  it('a bad repository entry, saying what is wrong with the shape it came closest to', () => {
    expect(configError('root: /b\nrepositories:\n  - owner: acme\n    type: team\n')).toMatch(/:4: repositories\.0\.type: .*"org"\|"user"\|"auto"/);
    expect(configError('repositories:\n  - owner: acme\n    exclude: old-thing\n')).toMatch(/:3: repositories\.0\.exclude: .*expected array/);
    expect(configError('repositories:\n  - acme/widgets\n  - 42\n')).toMatch(/:3: repositories\.1: expected "owner\/name", a URL or path/);
  });

  it('an unknown or mistyped metadata: switch, at its own line', () => {
    expect(configError('repositories:\n  - repo: acme/widgets\n    metadata:\n      wikki: false\n')).toMatch(/:4: repositories\.0\.metadata\.wikki: unknown field/);
    expect(configError('repositories:\n  - owner: acme\n    metadata:\n      lfs: "no"\n')).toMatch(/:4: repositories\.0\.metadata\.lfs: .*expected boolean/);
    // A bare "owner/name" string has no room for switches: the {repo: ...} form is how to give them.
    expect(configError('metadata: { wiki: false }\n')).toMatch(/:1: metadata: unknown field/);
  });

  it('an empty file, YAML or JSON, saying so', () => {
    expect(configError('')).toMatch(/backup\.config\.yml: the configuration file is empty/);
    expect(configError('# nothing yet\n')).toMatch(/the configuration file is empty/);
    expect(configError('  \n', 'c.json')).toMatch(/c\.json: the configuration file is empty/);
  });

  it('a bare word, which would otherwise become a local path, at its line', () => {
    const message = configError('repositories:\n  - acme/widgets\n  - acme\n');
    expect(message).toMatch(/:3: repositories\.1: "acme" is not owner\/name, a URL or a path .*\{ owner: acme \}/);
    // Explicit paths and URLs stay accepted.
    expect(parseConfig('repositories: [./acme, /srv/acme.git, "git@github.com:acme/x.git", "https://h/acme/x"]\n', 'c.yml').repositories).toHaveLength(4);
  });

  it('invalid owner or repository names, at their line', () => {
    expect(configError('repositories:\n  - acme/widgets\n  - "ac me/x"\n')).toMatch(/:3: repositories\.1: invalid repository owner "ac me"/);
    expect(configError('repositories:\n  - repo: acme/..\n    url: /srv/x.git\n')).toMatch(/:2: repositories\.0\.repo: invalid repository name "\.\."/);
  });

  it('every problem at once, not just the first', () => {
    const message = configError('bogus: 1\nconcurrency: 0\n');
    expect(message).toMatch(/:1: bogus: unknown field/);
    expect(message).toMatch(/:2: concurrency:/);
  });

  it('a document that is not a mapping', () => {
    expect(configError('- a\n- b\n')).toMatch(/\(top level\)/);
  });

  it('broken YAML and broken JSON, naming the file', () => {
    expect(configError('repositories: [\n')).toMatch(/backup\.config\.yml: invalid YAML/);
    expect(configError('{"repositories": [', 'c.json')).toMatch(/c\.json: invalid JSON/);
  });

  it('JSON errors name the field (JSON has no line to give)', () => {
    expect(configError('{"retentionDays": -1, "extra": true}', 'c.json')).toMatch(/c\.json: extra: unknown field/);
  });
});

describe('resolveSettings', () => {
  it('uses the defaults when nothing is given', () => {
    const settings = resolveSettings({}, {});
    expect(settings).toEqual({
      root: DEFAULTS.root,
      repositories: [],
      token: undefined,
      retentionDays: 30,
      keepMin: 7,
      concurrency: 4,
      apiUrl: 'https://api.github.com',
      includePullRefs: false,
      schedule: '0 2 * * *',
      configFile: null,
    });
  });

  it('reads ./backup.config.yml when neither --config nor BACKUP_CONFIG names a file, and says which it read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpb-config-cwd-'));
    writeFileSync(join(dir, 'backup.config.yml'), 'repositories: [acme/found]\n');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const settings = resolveSettings({}, {});
      expect(settings.repositories).toEqual(['acme/found']);
      expect(settings.configFile).toBe(join(realpathSync(dir), 'backup.config.yml'));
      // An explicit choice wins over the discovered file.
      const other = writeConfig('other.yml', 'repositories: [acme/other]\n');
      expect(resolveSettings({}, { BACKUP_CONFIG: other }).repositories).toEqual(['acme/other']);
      expect(resolveSettings({ configPath: other }, {}).configFile).toBe(other);
    } finally {
      process.chdir(cwd);
    }
  });

  it('ranks flags over environment over file over defaults', () => {
    const configPath = writeConfig('c.yml', 'root: /from/file\nretentionDays: 10\nkeepMin: 2\nconcurrency: 3\ntoken: file-token\nrepositories: [acme/file]\n');
    const env = { BACKUP_ROOT: '/from/env', BACKUP_RETENTION_DAYS: '20', GITHUB_TOKEN: 'env-token' };

    const fileOnly = resolveSettings({ configPath }, {});
    expect(fileOnly).toMatchObject({ root: '/from/file', retentionDays: 10, keepMin: 2, concurrency: 3, token: 'file-token', repositories: ['acme/file'] });

    const withEnv = resolveSettings({ configPath }, env);
    expect(withEnv).toMatchObject({ root: '/from/env', retentionDays: 20, token: 'env-token', keepMin: 2 });

    const withFlags = resolveSettings({ configPath, root: '/from/flag', retentionDays: 40, keepMin: 1, concurrency: 8, repositories: ['acme/flag'] }, env);
    expect(withFlags).toMatchObject({ root: '/from/flag', retentionDays: 40, keepMin: 1, concurrency: 8, repositories: ['acme/flag'] });
  });

  it('finds the config file through BACKUP_CONFIG', () => {
    const configPath = writeConfig('c.json', '{"repositories": ["acme/widgets"]}');
    expect(resolveSettings({}, { BACKUP_CONFIG: configPath }).repositories).toEqual(['acme/widgets']);
  });

  it('resolves a relative root to an absolute path', () => {
    expect(resolveSettings({ root: 'backups' }, {}).root).toBe(resolve('backups'));
  });

  it('treats an empty GITHUB_TOKEN as unset (falls back to the file)', () => {
    const configPath = writeConfig('c.yml', 'token: file-token\n');
    expect(resolveSettings({ configPath }, { GITHUB_TOKEN: '' }).token).toBe('file-token');
  });

  it.each(['0', '-3', 'thirty', '1.5', '30d'])('refuses BACKUP_RETENTION_DAYS=%j with exit code 2', (value) => {
    expect(() => resolveSettings({}, { BACKUP_RETENTION_DAYS: value })).toThrow(/BACKUP_RETENTION_DAYS must be a positive integer/);
    try {
      resolveSettings({}, { BACKUP_RETENTION_DAYS: value });
    } catch (error) {
      expect((error as UsageError).exitCode).toBe(ExitCode.USAGE);
    }
  });

  it('names a config file that cannot be read', () => {
    expect(() => resolveSettings({ configPath: '/nonexistent/backup.config.yml' }, {})).toThrow(/cannot read config file \/nonexistent\/backup\.config\.yml: ENOENT/);
  });

  it('passes file errors through with their line', () => {
    const configPath = writeConfig('c.yml', 'root: /b\nbogus: true\n');
    expect(() => resolveSettings({ configPath }, {})).toThrow(/c\.yml:2: bogus: unknown field/);
  });
});
