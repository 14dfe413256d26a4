// actions/backup's retention-days input has no default: the runner always passes declared defaults, so a default of
// '30' would silently override the config file's retentionDays (and BACKUP_RETENTION_DAYS). Proven end to end: the
// config's value decides what the bundled action prunes.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackup, createUpstream, fakeClock, type Upstream } from './helpers/git-fixtures.ts';
import { runAction } from './helpers/github-standin.ts';

const ACTION = 'actions/backup';

describe('actions/backup retention-days', () => {
  let upstream: Upstream;
  let root: string;
  beforeAll(async () => {
    upstream = createUpstream({ owner: 'acme', name: 'kept' });
    // Five daily snapshots, the newest ten days ago, each with a change so each is a real snapshot.
    const clock = fakeClock(new Date(Date.now() - 14 * 86_400_000).toISOString());
    const backup = createBackup([upstream], { keepMin: 1 }, clock.now);
    root = backup.root;
    for (let day = 0; day < 5; day++) {
      upstream.commit(`day ${day}`);
      upstream.push('main');
      expect((await backup.engineWith({}, clock.now).sync({ noPrune: true })).exitCode).toBe(0);
      clock.advanceDays(1);
    }
  });
  afterAll(() => {
    upstream.cleanup();
  });

  it('declares no default, so the config file decides', () => {
    const meta = parse(readFileSync(join(ACTION, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
    expect(meta.inputs['retention-days']!.default ?? '').toBe('');
  });

  it('a prune keeps all five under the default 30 days, and removes four under the config file\'s 3', async () => {
    const config = join(upstream.tmp, 'backup.config.yml');
    const run = (retentionDays: number | null) => {
      writeFileSync(config, `keepMin: 1\n${retentionDays ? `retentionDays: ${retentionDays}\n` : ''}repositories:\n  - ${upstream.bare}\n`);
      return runAction(ACTION, { inputs: { action: 'prune', config, 'backup-root': root, 'upload-logs': 'false' }, env: { GIT_CONFIG_NOSYSTEM: '1' } });
    };
    const byDefault = await run(null);
    expect(byDefault.code, byDefault.stdout).toBe(0);
    expect(byDefault.summary).toMatch(/0 removed/);
    const fromConfig = await run(3);
    expect(fromConfig.code, fromConfig.stdout).toBe(0);
    expect(fromConfig.summary).toMatch(/4 removed/);
  });
});
