// A nightly export job on a quiet day (no new snapshot) must not fail: the archive already there is kept when its
// .sha256 verifies. One that does not verify is refused, or with --force kept aside (never deleted) and rewritten.
import { appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../src/errors.ts';
import { createBackup, createUpstream, okValue, type Upstream } from './helpers/git-fixtures.ts';

describe('export twice', () => {
  let upstream: Upstream;
  afterEach(() => upstream.cleanup());

  it('the second export of the same snapshot reuses the verified archive; a damaged one needs --force and is kept', async () => {
    upstream = createUpstream();
    const b = createBackup([upstream]);
    expect((await b.engine.sync()).exitCode).toBe(0);

    const first = okValue(await b.engine.exportArchive());
    expect(first.alreadyExported).toBe(false);
    const written = statSync(first.archive);

    const second = okValue(await b.engine.exportArchive());
    expect(second).toMatchObject({ archive: first.archive, sha256: first.sha256, alreadyExported: true });
    // Nothing was rewritten.
    expect(statSync(first.archive).mtimeMs).toBe(written.mtimeMs);
    expect(statSync(first.archive).ino).toBe(written.ino);

    appendFileSync(first.archive, 'tampered');
    const refused = await b.engine.exportArchive();
    expect(refused.exitCode).toBe(ExitCode.USAGE);
    expect(refused.outcomes[0]).toMatchObject({ ok: false, error: expect.stringMatching(/does not match its \.sha256 checksum.*--force/) });

    const forced = okValue(await b.engine.exportArchive({ force: true }));
    expect(forced.alreadyExported).toBe(false);
    expect(forced.sha256).toBe(first.sha256); // the same snapshot, written deterministically
    expect(readFileSync(`${forced.archive}.sha256`, 'utf8')).toContain(forced.sha256);
    // The damaged archive and its sidecar are kept beside, as they were.
    const kept = readdirSync(dirname(forced.archive)).filter((n) => n.includes('.replaced-')).sort();
    expect(kept).toHaveLength(2);
    expect(kept[1]).toBe(`${kept[0]}.sha256`);
    expect(readFileSync(join(dirname(forced.archive), kept[0]!), 'utf8').endsWith('tampered')).toBe(true);
  });
});
