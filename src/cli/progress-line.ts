// The CLI's progress display on a terminal (docs/OPERATIONS.md "Progress on a terminal"): one status line on
// stderr, rewritten in place with \r and clear-line, cleared before anything else is printed. Off a terminal, or
// with --quiet, main.ts never makes one and the engine is not asked for progress at all.
import type { ProgressEvent, TransferProgress } from '../progress.ts';

const CLEAR_LINE = '\r\x1b[K';
/** Transfer lines come many times a second: redraw at most this often (phase changes show at once). */
const REDRAW_MS = 100;

interface RepoActivity {
  phase?: string;
  detail?: string;
  transfer?: TransferProgress;
}

export interface ProgressState {
  total: number;
  done: number;
  /** Repositories at work, the most recently heard from last. */
  active: Map<string, RepoActivity>;
}

/** "receiving objects 45% (120/260), 12.30 MiB | 4.10 MiB/s"; without `counts`, no "(120/260)". */
export function describeTransfer(t: TransferProgress, counts = true): string {
  const done = t.percent === null ? `${t.current}` : `${t.percent}%${counts ? ` (${t.current}/${t.total})` : ''}`;
  const bytes = t.bytes ? `, ${t.bytes}${t.rate ? ` | ${t.rate}` : ''}` : '';
  return `${t.remote ? 'remote: ' : ''}${t.stage.toLowerCase()} ${done}${bytes}`;
}

export interface LineParts {
  /** "3/10 done", with more than one repository. */
  count: string;
  repo: string;
  phase: string;
  /** What the phase works on: a snapshot name, a remote. */
  detail: string;
  /** git's transfer line, and the same without its object counts. */
  transfer: string;
  transferShort: string;
  /** "+2 more at work", when several repositories run at once. */
  others: string;
}

/** What the line says, in parts (so colour can go around them), or null when nothing is at work. */
export function describeProgress(state: ProgressState): LineParts | null {
  const shown = [...state.active].at(-1);
  if (!shown) return null;
  const [repo, activity] = shown;
  return {
    count: state.total > 1 ? `${state.done}/${state.total} done` : '',
    repo,
    phase: activity.phase ?? 'starting',
    detail: activity.detail ?? '',
    transfer: activity.transfer ? describeTransfer(activity.transfer) : '',
    transferShort: activity.transfer ? describeTransfer(activity.transfer, false) : '',
    others: state.active.size > 1 ? `+${state.active.size - 1} more at work` : '',
  };
}

function joinLine(parts: LineParts, style: { strong: (s: string) => string; faint: (s: string) => string }): string {
  const activity = [parts.phase, parts.detail, parts.transfer].filter(Boolean).join(' · ');
  return [parts.count && style.faint(parts.count), `${style.strong(parts.repo)}: ${activity}`, parts.others && style.faint(parts.others)].filter(Boolean).join('  ');
}

const PLAIN = { strong: (s: string) => s, faint: (s: string) => s };
const COLOURED = { strong: (s: string) => `\x1b[1m${s}\x1b[0m`, faint: (s: string) => `\x1b[2m${s}\x1b[0m` };

/**
 * The parts as one line of at most `width` characters (a longer one would wrap, and \r would rewrite only its last
 * row), coloured or not. What gives way first: the detail, the other repositories, git's object counts; git's
 * percentage, bytes and rate are what a person watches.
 */
export function formatLine(parts: LineParts, width: number, color: boolean): string {
  const variants = [
    parts,
    { ...parts, detail: '' },
    { ...parts, detail: '', others: '' },
    { ...parts, detail: '', others: '', transfer: parts.transferShort },
  ];
  const fits = variants.find((v) => joinLine(v, PLAIN).length <= width);
  if (fits) return joinLine(fits, color ? COLOURED : PLAIN);
  const plain = joinLine(variants.at(-1)!, PLAIN);
  return `${plain.slice(0, Math.max(0, width - 1))}…`;
}

export interface ProgressLineOptions {
  /** Raw writes to the terminal (stderr). */
  write: (text: string) => void;
  /** Applied to every line before it is drawn (the Redactor). */
  redact: (text: string) => string;
  color: boolean;
  /** The terminal's width now (it may be resized). */
  columns: () => number;
  now?: () => number;
}

export class ProgressLine {
  private readonly state: ProgressState = { total: 0, done: 0, active: new Map() };
  private shown = false;
  private lastDraw = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly options: ProgressLineOptions) {
    this.now = options.now ?? Date.now;
  }

  handle(event: ProgressEvent): void {
    const { active } = this.state;
    const touch = (repo: string): RepoActivity => {
      const activity = active.get(repo) ?? {};
      active.delete(repo);
      active.set(repo, activity);
      return activity;
    };
    switch (event.type) {
      case 'run':
        this.state.total = event.total;
        this.state.done = 0;
        break;
      case 'repository':
        if (event.state === 'started') touch(event.repo);
        else {
          active.delete(event.repo);
          this.state.done++;
        }
        break;
      case 'phase':
        Object.assign(touch(event.repo), { phase: event.phase, detail: event.detail, transfer: undefined });
        break;
      case 'transfer': {
        const activity = touch(event.repo);
        // A new stage, and a stage's last line (its totals, bytes and rate), are drawn at once; the lines
        // between them at most every REDRAW_MS.
        const news = event.transfer.finished || activity.transfer?.stage !== event.transfer.stage;
        activity.transfer = event.transfer;
        this.draw(news);
        return;
      }
    }
    this.draw(true);
  }

  /** Erase the line, before other output or at the end. The next event draws it again. */
  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.shown) this.options.write(CLEAR_LINE);
    this.shown = false;
  }

  private draw(now: boolean): void {
    const wait = this.lastDraw + REDRAW_MS - this.now();
    if (!now && wait > 0) {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.draw(true);
      }, wait).unref();
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastDraw = this.now();
    const parts = describeProgress(this.state);
    if (!parts) return this.clear();
    const { redact } = this.options;
    const redacted = { ...parts, repo: redact(parts.repo), detail: redact(parts.detail), transfer: redact(parts.transfer), transferShort: redact(parts.transferShort) };
    this.options.write(CLEAR_LINE + formatLine(redacted, Math.max(20, this.options.columns() - 1), this.options.color));
    this.shown = true;
  }
}
