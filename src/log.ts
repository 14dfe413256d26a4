// One line per event in logs/backup-YYYYMMDD.log, UTC timestamps, secrets redacted before anything is written.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { logFileName } from './naming.ts';
import type { Redactor } from './redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

export interface LogSink {
  write(line: string, level: LogLevel): void;
}

/** Writes redacted lines to the daily log file under `logsDir` and to any extra sinks (stderr, action log). */
export class FileLogger implements Logger {
  private readonly logsDir: string;
  private readonly redactor: Redactor;
  private readonly clock: () => Date;
  private readonly sinks: LogSink[];
  constructor(options: { logsDir: string; redactor: Redactor; clock?: () => Date; sinks?: LogSink[] }) {
    this.logsDir = options.logsDir;
    this.redactor = options.redactor;
    this.clock = options.clock ?? (() => new Date());
    this.sinks = options.sinks ?? [];
  }

  log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    const at = this.clock();
    const extras = Object.entries(fields)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value ?? null)}`)
      .join(' ');
    // Newlines inside a message (git stderr) would break "one line per event".
    const body = `${message}${extras ? ` ${extras}` : ''}`.replace(/\r?\n/g, ' \\n ');
    const line = this.redactor.redact(`${at.toISOString()} ${level.toUpperCase().padEnd(5)} ${body}`);
    for (const sink of this.sinks) sink.write(line, level);
    try {
      mkdirSync(this.logsDir, { recursive: true });
      appendFileSync(join(this.logsDir, logFileName(at)), `${line}\n`, { mode: 0o640 });
    } catch (error) {
      // Logging must never turn into the failure (a full disk, a read-only logs volume): say so where we still can.
      for (const sink of this.sinks) sink.write(`(could not write the log file: ${(error as NodeJS.ErrnoException).code ?? error})`, 'warn');
    }
  }
}
