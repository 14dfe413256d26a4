// A small, pure cron parser for the daemon's schedule (BACKUP_SCHEDULE), evaluated in UTC.
//
// Five fields, as in crontab(5):      minute hour day-of-month month day-of-week
// or six, with seconds in front:      second minute hour day-of-month month day-of-week
// The six-field form exists so a rehearsal can schedule a run a few seconds out; production schedules use five.
//
// Each field: `*`, a number, a name (JAN-DEC, SUN-SAT), a range `a-b`, a step `*/n`, `a-b/n` or `a/n`, and
// comma-separated lists of those. Day-of-week 0 and 7 are both Sunday. Aliases: @yearly (@annually), @monthly,
// @weekly, @daily (@midnight), @hourly.
//
// Day-of-month and day-of-week follow Vixie cron: when both are restricted (neither starts with `*`), a day
// matches if EITHER matches ("0 0 13 * 5" fires on every 13th and on every Friday); otherwise both must match.
import { UsageError } from '../errors.ts';

export class CronError extends UsageError {
  constructor(expression: string, problem: string) {
    super(`invalid cron schedule ${JSON.stringify(expression)}: ${problem}`);
  }
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
// 7 is accepted as Sunday and folded onto 0 after parsing.
const DAY_OF_WEEK: FieldSpec = { name: 'day-of-week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] };

const ALIASES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A parsed schedule: the allowed values of every field. */
export interface CronSchedule {
  readonly expression: string;
  /** True for the six-field form (seconds given); five-field schedules fire at second 0. */
  readonly hasSeconds: boolean;
  readonly seconds: ReadonlySet<number>;
  readonly minutes: ReadonlySet<number>;
  readonly hours: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number>;
  readonly months: ReadonlySet<number>;
  /** 0 = Sunday … 6 = Saturday. */
  readonly daysOfWeek: ReadonlySet<number>;
  readonly domRestricted: boolean;
  readonly dowRestricted: boolean;
}

function parseValue(expression: string, spec: FieldSpec, token: string): number {
  if (/^\d+$/.test(token)) {
    const value = Number(token);
    if (value < spec.min || value > spec.max) {
      throw new CronError(expression, `${spec.name} value ${token} is out of range ${spec.min}-${spec.max}`);
    }
    return value;
  }
  const index = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  if (index >= 0) return index + spec.min;
  throw new CronError(expression, `${spec.name} has an invalid value ${JSON.stringify(token)}`);
}

function parseField(expression: string, spec: FieldSpec, field: string): Set<number> {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    if (part === '') throw new CronError(expression, `${spec.name} has an empty list item in ${JSON.stringify(field)}`);
    const [rangePart, stepPart, extra] = part.split('/');
    if (extra !== undefined) throw new CronError(expression, `${spec.name} has more than one step in ${JSON.stringify(part)}`);
    let step = 1;
    if (stepPart !== undefined) {
      if (!/^\d+$/.test(stepPart) || Number(stepPart) === 0) {
        throw new CronError(expression, `${spec.name} step must be a positive integer, got ${JSON.stringify(stepPart)}`);
      }
      step = Number(stepPart);
    }
    let low: number;
    let high: number;
    if (rangePart === '*') {
      low = spec.min;
      high = spec.max;
    } else if (rangePart!.includes('-')) {
      const bounds = rangePart!.split('-');
      if (bounds.length !== 2) throw new CronError(expression, `${spec.name} has an invalid range ${JSON.stringify(rangePart)}`);
      low = parseValue(expression, spec, bounds[0]!);
      high = parseValue(expression, spec, bounds[1]!);
      if (low > high) throw new CronError(expression, `${spec.name} range ${rangePart} runs backwards`);
    } else {
      low = parseValue(expression, spec, rangePart!);
      // "a/n" means from a to the end of the field, stepping by n.
      high = stepPart === undefined ? low : spec.max;
    }
    for (let value = low; value <= high; value += step) values.add(value);
  }
  return values;
}

const DAYS_IN_MONTH_MAX = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function parseCron(expression: string): CronSchedule {
  const trimmed = expression.trim();
  if (trimmed === '') throw new CronError(expression, 'it is empty');
  let text = trimmed;
  if (text.startsWith('@')) {
    const alias = ALIASES[text.toLowerCase()];
    if (!alias) {
      throw new CronError(expression, `unknown alias ${text} (known: ${Object.keys(ALIASES).join(', ')})`);
    }
    text = alias;
  }
  const fields = text.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    throw new CronError(
      expression,
      `expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), got ${fields.length}`,
    );
  }
  const hasSeconds = fields.length === 6;
  const [sec, min, hour, dom, mon, dow] = hasSeconds ? fields : ['0', ...fields];
  const daysOfWeek = parseField(expression, DAY_OF_WEEK, dow!);
  if (daysOfWeek.delete(7)) daysOfWeek.add(0);
  const schedule: CronSchedule = {
    expression: trimmed,
    hasSeconds,
    seconds: parseField(expression, SECOND, sec!),
    minutes: parseField(expression, MINUTE, min!),
    hours: parseField(expression, HOUR, hour!),
    daysOfMonth: parseField(expression, DAY_OF_MONTH, dom!),
    months: parseField(expression, MONTH, mon!),
    daysOfWeek,
    domRestricted: !dom!.startsWith('*'),
    dowRestricted: !dow!.startsWith('*'),
  };
  // "0 0 30 2 *" parses but never fires: say so now rather than sleep forever.
  if (!schedule.dowRestricted || !schedule.domRestricted) {
    const smallestDay = Math.min(...schedule.daysOfMonth);
    const possible = [...schedule.months].some((month) => smallestDay <= DAYS_IN_MONTH_MAX[month - 1]!);
    if (!possible) throw new CronError(expression, 'no month in the schedule has that day, so it never fires');
  }
  return schedule;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function dayMatches(schedule: CronSchedule, date: Date): boolean {
  const domOk = schedule.daysOfMonth.has(date.getUTCDate());
  const dowOk = schedule.daysOfWeek.has(date.getUTCDay());
  if (schedule.domRestricted && schedule.dowRestricted) return domOk || dowOk;
  return domOk && dowOk;
}

// Feb 29 on a Monday can be 28 years away; anything that parsed fires within this horizon.
const SEARCH_YEARS = 30;

/** The first time strictly after `after` at which the schedule fires, in UTC, with second precision. */
export function nextFireTime(expression: string | CronSchedule, after: Date): Date {
  const schedule = typeof expression === 'string' ? parseCron(expression) : expression;
  if (Number.isNaN(after.getTime())) throw new RangeError('nextFireTime: invalid start date');
  // Work on a mutable UTC date truncated to the second, starting one second later.
  const t = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  const limit = after.getUTCFullYear() + SEARCH_YEARS;
  while (t.getUTCFullYear() <= limit) {
    if (!schedule.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (t.getUTCDate() > daysInMonth(t.getUTCFullYear(), t.getUTCMonth() + 1) || !dayMatches(schedule, t)) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!schedule.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!schedule.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    if (!schedule.seconds.has(t.getUTCSeconds())) {
      t.setUTCSeconds(t.getUTCSeconds() + 1, 0);
      continue;
    }
    return t;
  }
  throw new CronError(schedule.expression, `it does not fire within ${SEARCH_YEARS} years`);
}
