// git's transfer progress, read from its stderr when it runs with --progress (docs/OPERATIONS.md "Progress on a
// terminal"). git rewrites a progress line with \r; the server's lines come through as "remote: …".
import type { TransferProgress } from '../progress.ts';

// "Receiving objects:  45% (120/260), 12.30 MiB | 4.10 MiB/s", "remote: Enumerating objects: 1234, done.".
// The stage is letters and spaces only: a server's text never reaches the terminal beyond that.
const SIZE = String.raw`\d+(?:\.\d+)? (?:GiB|MiB|KiB|bytes?)`;
const PROGRESS = new RegExp(
  String.raw`^(remote: )?([A-Za-z][A-Za-z ]{0,39}): +(?:(\d{1,3})% \((\d+)/(\d+)\)|(\d+))(?:, (${SIZE})(?: \| (${SIZE}/s))?)?(, done\.?)?$`,
);
// The server's summary after its stages ("remote: Total 30 (delta 5), reused 0 …"): no progress, no news.
const SUMMARY = /^remote: Total \d+/;

export function parseProgressLine(line: string): TransferProgress | null {
  const match = PROGRESS.exec(line.trim());
  if (!match) return null;
  const [, remote, stage, percent, current, total, count, bytes, rate, done] = match;
  return {
    stage: stage!,
    remote: Boolean(remote),
    percent: percent === undefined ? null : Number(percent),
    current: Number(current ?? count),
    total: total === undefined ? null : Number(total),
    finished: Boolean(done),
    ...(bytes ? { bytes } : {}),
    ...(rate ? { rate } : {}),
  };
}

/** A stderr listener: reports each complete progress line of the stream (lines end in \r or \n). */
export function progressReader(report: (progress: TransferProgress) => void): (chunk: Buffer | string) => void {
  let pending = '';
  return (chunk) => {
    const segments = (pending + chunk.toString()).split(/\r|\n/);
    pending = segments.pop() ?? '';
    for (const segment of segments) {
      const progress = parseProgressLine(segment);
      if (progress) report(progress);
    }
  };
}

/** git's stderr without its progress lines, for an error message: only what went wrong is left. */
export function withoutProgress(stderr: string): string {
  return stderr
    .split(/\r\n|\r|\n/)
    .filter((line) => !parseProgressLine(line) && !SUMMARY.test(line.trim()))
    .join('\n');
}
