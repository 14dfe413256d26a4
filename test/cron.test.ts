import { describe, expect, it } from 'vitest';
import { CronError, nextFireTime, parseCron } from '../src/daemon/cron.ts';
import { ExitCode } from '../src/errors.ts';

const at = (iso: string) => new Date(iso);
const next = (expr: string, after: string) => nextFireTime(expr, at(after)).toISOString();

/** The next `count` fire times, each strictly after the previous one. */
function series(expr: string, after: string, count: number): string[] {
  const out: string[] = [];
  let t = at(after);
  for (let i = 0; i < count; i++) {
    t = nextFireTime(expr, t);
    out.push(t.toISOString());
  }
  return out;
}

describe('nextFireTime', () => {
  it('fires the default daily 02:00 UTC schedule later today, then tomorrow', () => {
    expect(next('0 2 * * *', '2025-03-10T01:59:59.999Z')).toBe('2025-03-10T02:00:00.000Z');
    // Strictly after: exactly at the fire time means the next day.
    expect(next('0 2 * * *', '2025-03-10T02:00:00.000Z')).toBe('2025-03-11T02:00:00.000Z');
    expect(next('0 2 * * *', '2025-03-10T02:00:00.500Z')).toBe('2025-03-11T02:00:00.000Z');
  });

  it('rolls over month ends and year ends', () => {
    expect(next('0 2 * * *', '2025-01-31T03:00:00Z')).toBe('2025-02-01T02:00:00.000Z');
    expect(next('0 2 * * *', '2025-12-31T23:00:00Z')).toBe('2026-01-01T02:00:00.000Z');
    expect(next('30 23 31 * *', '2025-04-01T00:00:00Z')).toBe('2025-05-31T23:30:00.000Z'); // April has 30 days
  });

  it('finds Feb 29 only in leap years', () => {
    expect(next('0 0 29 2 *', '2025-03-01T00:00:00Z')).toBe('2028-02-29T00:00:00.000Z');
    expect(next('0 0 29 2 *', '2024-02-28T12:00:00Z')).toBe('2024-02-29T00:00:00.000Z');
    // 2100 is not a leap year.
    expect(next('0 0 29 2 *', '2096-03-01T00:00:00Z')).toBe('2104-02-29T00:00:00.000Z');
  });

  it('treats day-of-week 7 and 0 both as Sunday', () => {
    // 2025-03-16 is a Sunday.
    expect(next('0 12 * * 7', '2025-03-12T00:00:00Z')).toBe('2025-03-16T12:00:00.000Z');
    expect(next('0 12 * * 0', '2025-03-12T00:00:00Z')).toBe('2025-03-16T12:00:00.000Z');
    expect(next('0 12 * * SUN', '2025-03-12T00:00:00Z')).toBe('2025-03-16T12:00:00.000Z');
    expect(next('0 12 * * 5-7', '2025-03-12T00:00:00Z')).toBe('2025-03-14T12:00:00.000Z'); // Friday
  });

  it('uses OR semantics when both day-of-month and day-of-week are restricted', () => {
    // Every 13th and every Friday: from Mon 2025-06-09, Fri 13 June is first, then Fri 20 June, then Sun 13 July...
    expect(series('0 0 13 * 5', '2025-06-09T00:00:00Z', 4)).toEqual([
      '2025-06-13T00:00:00.000Z',
      '2025-06-20T00:00:00.000Z',
      '2025-06-27T00:00:00.000Z',
      '2025-07-04T00:00:00.000Z',
    ]);
    expect(next('0 0 13 * 5', '2025-07-05T00:00:00Z')).toBe('2025-07-11T00:00:00.000Z');
    expect(next('0 0 1 * 1', '2025-07-29T00:00:00Z')).toBe('2025-08-01T00:00:00.000Z'); // the 1st, a Friday
  });

  it('uses AND semantics when either day field starts with *', () => {
    // Every other day-of-month that is also a Monday.
    expect(series('0 0 */2 * 1', '2025-03-01T00:00:00Z', 3)).toEqual([
      '2025-03-03T00:00:00.000Z',
      '2025-03-17T00:00:00.000Z',
      '2025-03-31T00:00:00.000Z',
    ]);
  });

  it('steps, ranges and lists', () => {
    expect(series('*/15 * * * *', '2025-03-10T10:07:00Z', 4)).toEqual([
      '2025-03-10T10:15:00.000Z',
      '2025-03-10T10:30:00.000Z',
      '2025-03-10T10:45:00.000Z',
      '2025-03-10T11:00:00.000Z',
    ]);
    expect(series('10-20/5 1,13 * * *', '2025-03-10T00:00:00Z', 4)).toEqual([
      '2025-03-10T01:10:00.000Z',
      '2025-03-10T01:15:00.000Z',
      '2025-03-10T01:20:00.000Z',
      '2025-03-10T13:10:00.000Z',
    ]);
    // "a/n": from a to the end of the field.
    expect(series('0 20/2 * * *', '2025-03-10T00:00:00Z', 3)).toEqual([
      '2025-03-10T20:00:00.000Z',
      '2025-03-10T22:00:00.000Z',
      '2025-03-11T20:00:00.000Z',
    ]);
    expect(next('0 0 1 jan,JUL *', '2025-02-01T00:00:00Z')).toBe('2025-07-01T00:00:00.000Z');
    // Steps that do not divide the range evenly restart at each hour: 0, 25, 50, then 0 again.
    expect(series('*/25 * * * *', '2025-03-10T10:40:00Z', 3)).toEqual([
      '2025-03-10T10:50:00.000Z',
      '2025-03-10T11:00:00.000Z',
      '2025-03-10T11:25:00.000Z',
    ]);
  });

  it('understands the aliases', () => {
    expect(next('@daily', '2025-03-10T10:00:00Z')).toBe('2025-03-11T00:00:00.000Z');
    expect(next('@midnight', '2025-03-10T10:00:00Z')).toBe('2025-03-11T00:00:00.000Z');
    expect(next('@hourly', '2025-03-10T10:00:00Z')).toBe('2025-03-10T11:00:00.000Z');
    expect(next('@weekly', '2025-03-10T10:00:00Z')).toBe('2025-03-16T00:00:00.000Z');
    expect(next('@monthly', '2025-03-10T10:00:00Z')).toBe('2025-04-01T00:00:00.000Z');
    expect(next('@yearly', '2025-03-10T10:00:00Z')).toBe('2026-01-01T00:00:00.000Z');
    expect(next('@HOURLY', '2025-03-10T10:00:00Z')).toBe('2025-03-10T11:00:00.000Z');
  });

  it('accepts a six-field form with seconds first, for rehearsals a few seconds out', () => {
    expect(series('*/5 * * * * *', '2025-03-10T10:00:03.250Z', 3)).toEqual([
      '2025-03-10T10:00:05.000Z',
      '2025-03-10T10:00:10.000Z',
      '2025-03-10T10:00:15.000Z',
    ]);
    expect(next('30 0 2 * * *', '2025-03-10T02:00:30Z')).toBe('2025-03-11T02:00:30.000Z');
    expect(parseCron('*/5 * * * * *').hasSeconds).toBe(true);
    expect(parseCron('0 2 * * *').hasSeconds).toBe(false);
  });

  it('ignores surrounding and repeated whitespace', () => {
    expect(next('  0   2 *\t* *  ', '2025-03-10T00:00:00Z')).toBe('2025-03-10T02:00:00.000Z');
  });
});

describe('parseCron errors', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['0 2 * *', /expected 5 fields .* got 4/],
    ['0 0 0 2 * * *', /got 7/],
    ['60 * * * *', /minute value 60 is out of range 0-59/],
    ['0 24 * * *', /hour value 24 is out of range 0-23/],
    ['0 0 0 * *', /day-of-month value 0 is out of range 1-31/],
    ['0 0 * 13 *', /month value 13 is out of range 1-12/],
    ['0 0 * * 8', /day-of-week value 8 is out of range 0-7/],
    // croner's own words from here on: the field, or the offending part, and why.
    ['*/0 * * * *', /illegal stepping: 0/],
    ['*/x * * * *', /minute has an invalid value "\*\/x"/],
    ['5-1 * * * *', /From value is larger than to value: '5-1'/],
    ['1,,2 * * * *', /minute \(\) is empty/],
    ['a * * * *', /minute has an invalid value "a"/],
    ['-1 * * * *', /invalid/],
    ['1/2/3 * * * *', /illegal stepping: '1\/2\/3'/],
    ['@every5m', /unknown alias @every5m/],
    ['0 0 30 2 *', /never fires/],
    ['0 0 31 4,6,9,11 *', /never fires/],
  ];
  for (const [expr, message] of cases) {
    it(`rejects ${JSON.stringify(expr)}`, () => {
      let error: unknown;
      try {
        parseCron(expr);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(CronError);
      expect((error as CronError).message).toMatch(message);
      expect((error as CronError).message).toContain('invalid cron schedule');
      // A bad schedule is a configuration error: exit code 2.
      expect((error as CronError).exitCode).toBe(ExitCode.USAGE);
    });
  }

  it('accepts Feb 30 when day-of-week is also restricted (OR semantics: Mondays still fire)', () => {
    expect(next('0 0 30 2 1', '2025-02-01T00:00:00Z')).toBe('2025-02-03T00:00:00.000Z');
  });
});
