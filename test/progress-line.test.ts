// The pieces of the progress display (docs/OPERATIONS.md "Progress on a terminal"): git's progress read from a real
// git's stderr, hostile server text kept off the terminal, progress stripped from error messages, and the one
// status line: what gives way in a narrow terminal, colour or none, and how often it is redrawn.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProgressLine, progressReader, withoutProgress } from '../src/git/progress.ts';
import { describeProgress, formatLine, ProgressLine } from '../src/cli/progress-line.ts';
import type { ProgressEvent, TransferProgress } from '../src/progress.ts';
import { cleanupAfterEach } from './helpers/cleanups.ts';
import { createUpstream, git, makeTempDir } from './helpers/git-fixtures.ts';

const cleanups = cleanupAfterEach();
const ESC = '\x1b';
const COLOURS = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

describe("git's progress lines", () => {
  it('are read from what a real git fetch --progress writes on stderr', () => {
    const upstream = createUpstream();
    cleanups.push(() => upstream.cleanup());
    writeFileSync(join(upstream.work, 'big.bin'), randomBytes(512 * 1024));
    git(upstream.work, 'add', 'big.bin');
    git(upstream.work, 'commit', '--quiet', '-m', 'big');
    upstream.push('main');
    const mirror = join(makeTempDir(), 'mirror.git');
    git(upstream.tmp, 'init', '--bare', '--quiet', mirror);
    const fetched = spawnSync('git', ['-c', 'fetch.unpackLimit=1', 'fetch', '--progress', upstream.bare, '+refs/*:refs/*'], { cwd: mirror, encoding: 'utf8' });
    expect(fetched.status, fetched.stderr).toBe(0);
    const seen: TransferProgress[] = [];
    const read = progressReader((p) => seen.push(p));
    // In pieces that split lines anywhere, as a pipe delivers them.
    for (let i = 0; i < fetched.stderr.length; i += 7) read(fetched.stderr.slice(i, i + 7));
    const stages = new Set(seen.map((p) => `${p.remote ? 'remote: ' : ''}${p.stage}`));
    expect(stages).toContain('Receiving objects');
    expect(stages).toContain('remote: Counting objects');
    const received = seen.filter((p) => p.stage === 'Receiving objects').at(-1)!;
    expect(received).toMatchObject({ percent: 100, finished: true, remote: false });
    expect(received.current).toBe(received.total);
    expect(received.bytes).toMatch(/^\d+\.\d\d (KiB|MiB)$/);
    expect(received.rate).toMatch(/^\d+\.\d\d (KiB|MiB|GiB)\/s$/);
    // The ref lines git prints after its progress are not progress.
    expect(fetched.stderr).toContain('[new branch]');
    expect(seen.every((p) => /^[A-Za-z ]+$/.test(p.stage))).toBe(true);
  });

  it('count-only stages and the sideband padding are understood', () => {
    expect(parseProgressLine('remote: Enumerating objects: 1234, done.        ')).toEqual({ stage: 'Enumerating objects', remote: true, percent: null, current: 1234, total: null, finished: true });
    expect(parseProgressLine('Writing objects:  45% (12/27), 1.50 MiB | 750.00 KiB/s')).toEqual({
      stage: 'Writing objects',
      remote: false,
      percent: 45,
      current: 12,
      total: 27,
      finished: false,
      bytes: '1.50 MiB',
      rate: '750.00 KiB/s',
    });
  });

  it('a server cannot put its own text, or escape codes, on the terminal as a stage', () => {
    expect(parseProgressLine('remote: \x1b[31mYou have been hacked\x1b[0m: 50% (1/2)')).toBeNull();
    expect(parseProgressLine('remote: Visit https://evil.example/login now: 50% (1/2)')).toBeNull();
    expect(parseProgressLine('remote: Counting objects: 50% (1/2), see https://evil.example')).toBeNull();
  });

  it('are left out of an error message, and what went wrong stays', () => {
    const stderr = 'remote: Enumerating objects: 5, done.\nReceiving objects:  20% (1/5)\rReceiving objects:  40% (2/5)\rremote: Total 5 (delta 0)\nerror: RPC failed; curl 18 transfer closed\nfatal: early EOF\n';
    expect(withoutProgress(stderr).trim()).toBe('error: RPC failed; curl 18 transfer closed\nfatal: early EOF');
  });
});

const transfer = (percent: number, more: Partial<TransferProgress> = {}): TransferProgress => ({
  stage: 'Receiving objects',
  remote: false,
  percent,
  current: percent * 10,
  total: 1000,
  finished: false,
  bytes: '12.30 MiB',
  rate: '4.10 MiB/s',
  ...more,
});

describe('the status line', () => {
  const state = (events: ProgressEvent[]) => {
    const drawn: string[] = [];
    let now = 0;
    const line = new ProgressLine({ write: (t) => drawn.push(t), redact: (t) => t.replaceAll('s3cr3t', '***'), color: false, columns: () => 80, now: () => now });
    for (const e of events) line.handle(e);
    return { drawn, line, advance: (ms: number) => (now += ms) };
  };

  it('says N/M, the repository, its phase and git\'s figures, and gives way in a narrow terminal', () => {
    const parts = describeProgress({
      total: 12,
      done: 3,
      active: new Map([
        ['acme/gadgets', { phase: 'snapshot' }],
        ['acme/widgets', { phase: 'fetching', detail: 'https://github.com/acme/widgets', transfer: transfer(45) }],
      ]),
    })!;
    expect(formatLine(parts, 200, false)).toBe('3/12 done  acme/widgets: fetching · https://github.com/acme/widgets · receiving objects 45% (450/1000), 12.30 MiB | 4.10 MiB/s  +1 more at work');
    expect(formatLine(parts, 110, false)).toBe('3/12 done  acme/widgets: fetching · receiving objects 45% (450/1000), 12.30 MiB | 4.10 MiB/s  +1 more at work');
    expect(formatLine(parts, 100, false)).toBe('3/12 done  acme/widgets: fetching · receiving objects 45% (450/1000), 12.30 MiB | 4.10 MiB/s');
    expect(formatLine(parts, 85, false)).toBe('3/12 done  acme/widgets: fetching · receiving objects 45%, 12.30 MiB | 4.10 MiB/s');
    const tiny = formatLine(parts, 30, false);
    expect(tiny).toBe('3/12 done  acme/widgets: fetc…');
    expect(tiny).toHaveLength(30);
    const coloured = formatLine(parts, 200, true);
    expect(coloured).toContain(`${ESC}[1macme/widgets${ESC}[0m`);
    expect(coloured.replace(COLOURS, '')).toBe(formatLine(parts, 200, false));
  });

  it('is redrawn at most every 100 ms within a stage, at once for a new stage or a stage\'s last line, and erased once', () => {
    const { drawn, line, advance } = state([
      { type: 'run', command: 'sync', total: 1 },
      { type: 'repository', repo: 'acme/widgets', state: 'started' },
      { type: 'phase', repo: 'acme/widgets', phase: 'fetching', detail: 'https://x-access-token:s3cr3t@example.com/' },
    ]);
    expect(drawn.at(-1)).toBe('\r\x1b[Kacme/widgets: fetching · https://x-access-token:***@example.com/');
    line.handle({ type: 'transfer', repo: 'acme/widgets', transfer: transfer(10) });
    expect(drawn.at(-1)).toMatch(/receiving objects 10%/);
    const count = drawn.length;
    advance(50);
    line.handle({ type: 'transfer', repo: 'acme/widgets', transfer: transfer(20) });
    expect(drawn).toHaveLength(count);
    line.handle({ type: 'transfer', repo: 'acme/widgets', transfer: transfer(100, { finished: true }) });
    expect(drawn).toHaveLength(count + 1);
    expect(drawn.at(-1)).toMatch(/receiving objects 100%/);
    // Erased once, however often asked; a repository that finishes while nothing is shown erases nothing.
    line.clear();
    line.clear();
    expect(drawn.slice(count + 1)).toEqual(['\r\x1b[K']);
    line.handle({ type: 'repository', repo: 'acme/widgets', state: 'finished' });
    expect(drawn).toHaveLength(count + 2);
    // The last repository finishing erases the line.
    line.handle({ type: 'repository', repo: 'acme/gadgets', state: 'started' });
    expect(drawn.at(-1)).toBe('\r\x1b[Kacme/gadgets: starting');
    line.handle({ type: 'repository', repo: 'acme/gadgets', state: 'failed' });
    expect(drawn.at(-1)).toBe('\r\x1b[K');
  });
});
