// `backup-manager daemon`: the container's entry point. Syncs on the cron schedule ($BACKUP_SCHEDULE or the config's
// `schedule`, UTC) until SIGTERM/SIGINT, which main.ts turns into an abort: the current run stops its git and
// unwinds, leaving nothing half-made. Exit 0 when stopped while idle, 130 when stopped mid-run.
import { resolveSettings } from '../config.ts';
import { runDaemon } from '../daemon/daemon.ts';
import { createEngine } from '../engine/index.ts';
import { ExitCode } from '../errors.ts';
import type { Command } from './command.ts';
import { overridesFrom } from './options.ts';

export const daemonCommand: Command<never> = {
  name: 'daemon',
  summary: 'run sync (and retention) on the cron schedule in $BACKUP_SCHEDULE (UTC) until SIGTERM',
  usage: 'daemon [--run-now]',
  help: `  --run-now          run a sync immediately on start, then follow the schedule
  Schedule: 5 cron fields (minute hour day-of-month month day-of-week), a 6-field form with seconds first
  (for rehearsals), or @hourly/@daily/@weekly/@monthly/@yearly. Default "0 2 * * *" (02:00 UTC daily).
  Each run re-reads the configuration file, so repositories added to it are picked up without a restart.
  Each run's outcome is logged on stderr; a failed run is logged and the daemon waits for the next one.
  With --json, stdout carries one JSON line per finished run (JSON Lines): {"run":N,"result":{...}} or
  {"run":N,"error":"..."}.`,
  options: {
    'run-now': { type: 'boolean' },
  },
  jsonLines: true,
  async execute({ settings, env, signal, progress, values, emitJsonLine }) {
    const startedAt = new Date().toISOString();
    const log = (line: string) => progress(`${new Date().toISOString()} ${line}`);
    const { stoppedMidRun } = await runDaemon({
      settings,
      // A fresh engine per run from freshly resolved settings: a config edit takes effect at the next run, and a
      // broken config fails that run (logged) instead of the daemon.
      engineFactory: (runSignal) =>
        createEngine({
          settings: resolveSettings(overridesFrom(values), env),
          signal: runSignal,
          logger: { log: (level, line) => (level === 'warn' || level === 'error' ? log(line) : undefined) },
        }),
      signal,
      runOnStart: Boolean(values['run-now']),
      log,
      ...(values.json ? { onRun: (run: number, outcome: object) => emitJsonLine({ run, ...outcome }) } : {}),
    });
    const exitCode = stoppedMidRun ? ExitCode.INTERRUPTED : ExitCode.OK;
    return { command: 'daemon', startedAt, finishedAt: new Date().toISOString(), outcomes: [], failed: [], exitCode };
  },
  render: (result) => `daemon: stopped (ran from ${result.startedAt} to ${result.finishedAt})`,
};
