// The scheduler loop with a fake clock and a scripted engine: when it fires, what it logs, how it survives failures
// and how it stops. The real engine and a real SIGTERM are exercised in container-runtime.test.ts.
import { describe, expect, it } from 'vitest';
import { DEFAULTS, type BackupSettings } from '../src/config.ts';
import type { Engine } from '../src/engine/api.ts';
import { abortableSleep, runDaemon } from '../src/daemon/daemon.ts';
import { ExitCode } from '../src/errors.ts';
import type { RunResult, SyncRepoResult } from '../src/types.ts';

function settings(schedule: string): BackupSettings {
  return { ...DEFAULTS, root: '/backup', repositories: ['acme/app'], schedule };
}

function okResult(at: Date, snapshot: string | null): RunResult<SyncRepoResult> {
  const value: SyncRepoResult = {
    repo: 'acme/app',
    changes: { added: snapshot ? ['refs/heads/main'] : [], updated: [], forceUpdated: [], deleted: [] },
    changed: snapshot !== null,
    snapshot: snapshot
      ? { repository: 'acme/app', name: snapshot, path: `/backup/snapshots/acme/app/${snapshot}`, createdAt: at.toISOString(), head: null, refCount: 1, sizeBytes: 10 }
      : null,
    pruned: [],
    snapshotCount: 1,
  };
  return {
    command: 'sync',
    startedAt: at.toISOString(),
    finishedAt: at.toISOString(),
    outcomes: [{ repo: 'acme/app', ok: true, value }],
    failed: [],
    exitCode: ExitCode.OK,
  };
}

function partialResult(at: Date): RunResult<SyncRepoResult> {
  const good = okResult(at, null);
  return {
    ...good,
    outcomes: [...good.outcomes, { repo: 'acme/gone', ok: false, error: 'fetch failed: repository not found', exitCode: ExitCode.FAILURE }],
    failed: ['acme/gone'],
    exitCode: ExitCode.PARTIAL,
  };
}

/** An engine whose sync() runs the given script; every other command is a test failure. */
function scriptedEngine(sync: () => Promise<RunResult<SyncRepoResult>>): Engine {
  const unexpected = () => Promise.reject(new Error('the daemon must only call sync()'));
  return {
    resolveTargets: unexpected,
    repositories: unexpected,
    init: unexpected,
    sync,
    snapshot: unexpected,
    unpin: unexpected,
    diff: unexpected,
    find: unexpected,
    list: unexpected,
    status: unexpected,
    health: unexpected,
    verify: unexpected,
    prune: unexpected,
    restore: unexpected,
    restoreMetadata: unexpected,
    exportArchive: unexpected,
    exportMetadata: unexpected,
    storePush: unexpected,
    storeList: unexpected,
    storeVerify: unexpected,
    storePrune: unexpected,
  };
}

/** A clock that only moves when the daemon sleeps. */
function fakeTime(startIso: string) {
  let now = new Date(startIso).getTime();
  const sleeps: number[] = [];
  return {
    clock: () => new Date(now),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => {
      now += ms;
    },
    sleeps,
  };
}

describe('runDaemon', () => {
  it('sleeps until each scheduled time (UTC) and syncs there, logging every run', async () => {
    const time = fakeTime('2025-03-10T01:30:00Z');
    const syncTimes: string[] = [];
    const lines: string[] = [];
    await runDaemon({
      settings: settings('0 2 * * *'),
      engineFactory: () =>
        scriptedEngine(async () => {
          syncTimes.push(time.clock().toISOString());
          return okResult(time.clock(), `snapshot-${syncTimes.length}`);
        }),
      signal: new AbortController().signal,
      clock: time.clock,
      sleep: time.sleep,
      log: (line) => lines.push(line),
      maxRuns: 3,
    });
    expect(syncTimes).toEqual(['2025-03-10T02:00:00.000Z', '2025-03-11T02:00:00.000Z', '2025-03-12T02:00:00.000Z']);
    // Long waits are cut into slices of at most a minute, so a clock step or a suspended host is noticed.
    expect(Math.max(...time.sleeps)).toBeLessThanOrEqual(60_000);
    expect(lines[0]).toBe('daemon: started; schedule "0 2 * * *" (UTC), root /backup');
    expect(lines).toContain('daemon: next run at 2025-03-10T02:00:00.000Z');
    expect(lines).toContain('daemon:   acme/app: ok: refs +1 ~0 !0 -0, snapshot snapshot-2, 1 snapshot(s)');
    expect(lines.filter((line) => /^daemon: run \d finished with exit code 0/.test(line))).toHaveLength(3);
    expect(lines.at(-1)).toBe('daemon: stopped after 3 run(s)');
  });

  it('survives a run that throws and a run with failed repositories', async () => {
    const time = fakeTime('2025-03-10T00:00:30Z');
    const lines: string[] = [];
    let calls = 0;
    let factoryCalls = 0;
    await runDaemon({
      settings: settings('@hourly'),
      engineFactory: () => {
        factoryCalls += 1;
        if (factoryCalls === 2) throw new Error('config file vanished');
        return scriptedEngine(async () => {
          calls += 1;
          if (calls === 1) throw new Error('disk full');
          return calls === 2 ? partialResult(time.clock()) : okResult(time.clock(), null);
        });
      },
      signal: new AbortController().signal,
      clock: time.clock,
      sleep: time.sleep,
      log: (line) => lines.push(line),
      maxRuns: 4,
    });
    expect(factoryCalls).toBe(4);
    expect(calls).toBe(3);
    expect(lines).toContain('daemon: run 1 FAILED: disk full');
    expect(lines).toContain('daemon: run 2 FAILED: config file vanished');
    expect(lines.some((line) => line.startsWith('daemon: run 3 finished with exit code 3: 1 repository ok, 1 failed'))).toBe(true);
    expect(lines).toContain('daemon:   acme/gone: FAILED (exit 1): fetch failed: repository not found');
    expect(lines.some((line) => line.startsWith('daemon: run 4 finished with exit code 0'))).toBe(true);
    expect(lines).toContain('daemon: next run at 2025-03-10T04:00:00.000Z');
  });

  it('computes the next time after a run that overran its slot, instead of running back to back', async () => {
    const time = fakeTime('2025-03-10T00:59:00Z');
    const syncTimes: string[] = [];
    await runDaemon({
      settings: settings('@hourly'),
      engineFactory: () =>
        scriptedEngine(async () => {
          syncTimes.push(time.clock().toISOString());
          time.advance(90 * 60_000); // this sync takes 90 minutes
          return okResult(time.clock(), null);
        }),
      signal: new AbortController().signal,
      clock: time.clock,
      sleep: time.sleep,
      log: () => {},
      maxRuns: 2,
    });
    expect(syncTimes).toEqual(['2025-03-10T01:00:00.000Z', '2025-03-10T03:00:00.000Z']);
  });

  it('runs at once with runOnStart, then on schedule', async () => {
    const time = fakeTime('2025-03-10T10:17:00Z');
    const syncTimes: string[] = [];
    await runDaemon({
      settings: settings('0 2 * * *'),
      engineFactory: () =>
        scriptedEngine(async () => {
          syncTimes.push(time.clock().toISOString());
          return okResult(time.clock(), null);
        }),
      signal: new AbortController().signal,
      clock: time.clock,
      sleep: time.sleep,
      log: () => {},
      runOnStart: true,
      maxRuns: 2,
    });
    expect(syncTimes).toEqual(['2025-03-10T10:17:00.000Z', '2025-03-11T02:00:00.000Z']);
  });

  it('returns promptly when aborted while sleeping, without running a sync', async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    let syncs = 0;
    const started = Date.now();
    const done = runDaemon({
      settings: settings('0 2 * * *'),
      engineFactory: () =>
        scriptedEngine(async () => {
          syncs += 1;
          return okResult(new Date(), null);
        }),
      signal: controller.signal,
      log: (line) => lines.push(line),
    });
    setTimeout(() => controller.abort(), 100);
    expect(await done).toEqual({ runs: 0, stoppedMidRun: false });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(syncs).toBe(0);
    expect(lines.at(-1)).toBe('daemon: stopped after 0 run(s)');
  });

  it('passes its signal to the engine and waits for an interrupted run to wind down before returning', async () => {
    const controller = new AbortController();
    const lines: string[] = [];
    const events: string[] = [];
    let engineSignal: AbortSignal | undefined;
    const outcome = await runDaemon({
      // Six-field form: every second, so the real sleep fires within a second.
      settings: settings('* * * * * *'),
      engineFactory: (signal) => {
        engineSignal = signal;
        return scriptedEngine(
          () =>
            new Promise((resolve) => {
              events.push('sync started');
              setTimeout(() => controller.abort(), 50);
              // Like the real engine: notice the abort at the next phase boundary, clean up, then return.
              signal.addEventListener('abort', () => {
                setTimeout(() => {
                  events.push('sync cleaned up');
                  resolve({ ...okResult(new Date(), null), failed: ['acme/app'], exitCode: ExitCode.FAILURE, outcomes: [{ repo: 'acme/app', ok: false, error: 'aborted', exitCode: ExitCode.FAILURE }] });
                }, 100);
              });
            }),
        );
      },
      signal: controller.signal,
      log: (line) => {
        lines.push(line);
        events.push(line);
      },
    });
    expect(engineSignal).toBe(controller.signal);
    expect(events.indexOf('sync cleaned up')).toBeGreaterThan(events.indexOf('sync started'));
    expect(events.indexOf('sync cleaned up')).toBeLessThan(events.indexOf('daemon: stopped after 1 run(s), the last one before it finished'));
    // Stopped mid-run: the daemon command exits 130 for it.
    expect(outcome).toEqual({ runs: 1, stoppedMidRun: true });
    expect(lines).toContain('daemon: shutdown requested during run 1; anything it left unfinished is cleaned up by the next run');
    expect(lines.filter((line) => line.startsWith('daemon: run ') && line.includes('starting'))).toHaveLength(1);
  });

  it('refuses a bad schedule at start with a usage error, before any run', async () => {
    let created = 0;
    await expect(
      runDaemon({
        settings: settings('0 25 * * *'),
        engineFactory: () => {
          created += 1;
          return scriptedEngine(async () => okResult(new Date(), null));
        },
        signal: new AbortController().signal,
        log: () => {},
      }),
    ).rejects.toMatchObject({ exitCode: ExitCode.USAGE, message: expect.stringMatching(/hour value 25 is out of range/) });
    expect(created).toBe(0);
  });
});

describe('abortableSleep', () => {
  it('resolves after the delay, or at once on abort', async () => {
    const started = Date.now();
    await abortableSleep(50, new AbortController().signal);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);

    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    controller.abort();
    const before = Date.now();
    await sleeping;
    expect(Date.now() - before).toBeLessThan(1_000);
  });
});
