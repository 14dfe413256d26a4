// Progress of a long run as typed events (docs/OPERATIONS.md "Progress on a terminal"). The engine emits them
// through its context and never prints; a face draws them (the CLI, on a terminal) or ignores them.

/** What one repository's work is doing now. */
export type Phase =
  | 'fetching'
  | 'hydrating from store'
  | 'snapshot'
  | 'pushing to store'
  | 'verifying'
  | 'restoring'
  | 'pulling from store'
  | 'pushing LFS objects'
  | 'pushing to remote'
  | 'exporting';

/** One of git's transfer progress lines ("Receiving objects:  45% (120/260), 12.30 MiB | 4.10 MiB/s"), parsed. */
export interface TransferProgress {
  /** git's words for the stage, e.g. "Receiving objects"; only letters and spaces. */
  stage: string;
  /** Reported by the server ("remote: Counting objects …"). */
  remote: boolean;
  /** null for a stage that only counts ("Enumerating objects: 1234"). */
  percent: number | null;
  current: number;
  total: number | null;
  /** git's last line of the stage (", done."). */
  finished: boolean;
  /** git's own figures, as it wrote them: "12.30 MiB" and "4.10 MiB/s". */
  bytes?: string;
  rate?: string;
}

export type ProgressEvent =
  /** A command starts on `total` repositories. */
  | { type: 'run'; command: string; total: number }
  | { type: 'repository'; repo: string; state: 'started' | 'finished' | 'failed' }
  /** `detail` names what the phase works on (a snapshot name). */
  | { type: 'phase'; repo: string; phase: Phase; detail?: string }
  | { type: 'transfer'; repo: string; transfer: TransferProgress };

export type ProgressSink = (event: ProgressEvent) => void;
