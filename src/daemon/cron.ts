// The daemon's schedule (BACKUP_SCHEDULE, the config's `schedule`), evaluated in UTC by croner.
//
// Five fields, as in crontab(5):      minute hour day-of-month month day-of-week
// or six, with seconds in front:      second minute hour day-of-month month day-of-week
// The six-field form exists so a rehearsal can schedule a run a few seconds out; production schedules use five.
// Day-of-month and day-of-week follow Vixie cron (croner's default): when both are restricted, a day matches if
// EITHER matches. We add what croner leaves to its caller: a field count and aliases checked before parsing, the
// field and value named in errors, and a schedule that can never fire rejected up front rather than idling forever.
import { Cron } from 'croner';
import { UsageError } from '../errors.ts';

export class CronError extends UsageError {
  constructor(expression: string, problem: string) {
    super(`invalid cron schedule ${JSON.stringify(expression)}: ${problem}`);
  }
}

export interface CronSchedule {
  expression: string;
  /** Six fields: the first one is seconds. */
  hasSeconds: boolean;
  cron: Cron;
}

const ALIASES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const FIELDS_5 = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'];
const FIELDS_6 = ['second', ...FIELDS_5];
// croner's names for the fields in its messages, and the ranges we state.
const CRONER_FIELD: Record<string, string> = { second: 'second', minute: 'minute', hour: 'hour', day: 'day-of-month', month: 'month', dayOfWeek: 'day-of-week' };
const RANGE: Record<string, string> = { second: '0-59', minute: '0-59', hour: '0-23', 'day-of-month': '1-31', month: '1-12', 'day-of-week': '0-7' };

/** Say which field and value croner rejected, in our words, keeping croner's reason otherwise. */
function explain(croner: string, fields: string[], names: string[]): string {
  const reason = croner.replace(/^CronPattern:\s*/, '');
  const invalid = /^Invalid value for (\w+)/.exec(reason);
  if (invalid) {
    const field = CRONER_FIELD[invalid[1]!] ?? invalid[1]!;
    const token = fields[names.indexOf(field)];
    return `${field} value ${token ?? '?'} is out of range ${RANGE[field] ?? ''}`.trim();
  }
  const entry = /configuration entry (\d+) \(([^)]*)\)/.exec(reason);
  if (entry) return `${names[Number(entry[1]) - 1] ?? 'a field'} has an invalid value ${JSON.stringify(entry[2])}`;
  return reason;
}

export function parseCron(expression: string): CronSchedule {
  const trimmed = expression.trim().replace(/\s+/g, ' ');
  if (trimmed === '') throw new CronError(expression, 'it is empty');
  if (trimmed.startsWith('@') && !ALIASES.includes(trimmed.toLowerCase())) {
    throw new CronError(expression, `unknown alias ${trimmed} (known: ${ALIASES.join(', ')})`);
  }
  const fields = trimmed.startsWith('@') ? [] : trimmed.split(' ');
  if (fields.length && fields.length !== 5 && fields.length !== 6) {
    throw new CronError(expression, `expected 5 fields (${FIELDS_5.join(' ')}) or 6 with seconds first, got ${fields.length}`);
  }
  const names = fields.length === 6 ? FIELDS_6 : FIELDS_5;
  const [dayOfMonth = '*', dayOfWeek = '*'] = fields.slice(-3, -2).concat(fields.slice(-1));
  let cron: Cron;
  try {
    // sloppyRanges admits crontab's "a/n" (from a, every n); paused: we only ask it for times, it never runs a job.
    // Vixie cron ANDs the day fields when either starts with "*" (even "*/2"); croner ORs any two restricted ones.
    cron = new Cron(trimmed.toLowerCase(), {
      paused: true,
      timezone: 'UTC',
      mode: '5-or-6-parts',
      sloppyRanges: true,
      domAndDow: dayOfMonth.startsWith('*') || dayOfWeek.startsWith('*'),
    });
  } catch (error) {
    throw new CronError(expression, explain((error as Error).message, fields, names));
  }
  if (!cron.nextRun(new Date(0))) throw new CronError(expression, 'no month in the schedule has that day, so it never fires');
  return { expression, hasSeconds: fields.length === 6, cron };
}

/** The first time strictly after `after` at which the schedule fires (UTC). */
export function nextFireTime(expression: string | CronSchedule, after: Date): Date {
  const schedule = typeof expression === 'string' ? parseCron(expression) : expression;
  const next = schedule.cron.nextRun(after);
  if (!next) throw new CronError(schedule.expression, 'it never fires again');
  return next;
}
