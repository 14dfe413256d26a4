// verify's findings, bounded: a tampered snapshot can produce millions of problems (one "missing file" per entry of
// a forged snapshot.json); we keep and report the first ones and count the rest (docs/OPERATIONS.md, "Size limits").
import { formatCount } from '../bounded-read.ts';
import type { VerifyProblem } from '../types.ts';

/** Problems kept per snapshot (in --json and the error's details). */
export const MAX_LISTED_PROBLEMS = 100;
/** Problems spelled out per snapshot in the error message. */
export const MAX_PROBLEMS_IN_MESSAGE = 10;

export class ProblemList {
  readonly listed: VerifyProblem[] = [];
  private total = 0;
  private readonly limit: number;
  constructor(limit = MAX_LISTED_PROBLEMS) {
    this.limit = limit;
  }

  push(problem: VerifyProblem): void {
    this.total++;
    if (this.listed.length < this.limit) this.listed.push(problem);
  }

  /** A list of any length (no spread: a few hundred thousand arguments overflow the stack). */
  pushAll(problems: readonly VerifyProblem[]): void {
    for (const problem of problems) this.push(problem);
  }

  get omitted(): number {
    return this.total - this.listed.length;
  }
}

/** "a; b; c; and 99,873 more" for one snapshot's problems. */
export function describeProblems(problems: readonly VerifyProblem[], omitted = 0, shown = MAX_PROBLEMS_IN_MESSAGE): string {
  const text = problems
    .slice(0, shown)
    .map((p) => `${p.file}: ${p.problem}${p.sharedWith?.length ? ` (same inode in ${p.sharedWith.join(', ')})` : ''}`);
  const more = Math.max(0, problems.length - shown) + omitted;
  return [...text, ...(more > 0 ? [`and ${formatCount(more)} more`] : [])].join('; ');
}
