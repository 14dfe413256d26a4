// Exit codes and user-facing errors live here and nowhere else (docs/ARCHITECTURE.md "Exit codes").
import type { HintCode } from './hints.ts';
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  PARTIAL: 3,
  LOCKED: 4,
  /** The repository (upstream, or in the store) does not exist or the credentials cannot see it. */
  NOT_FOUND: 10,
  /** Authentication failed: a token or key that is missing, expired, revoked or lacks access. */
  AUTH: 12,
  /** Stopped on request (SIGINT/SIGTERM) before finishing, like restic's 130. */
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODE_HELP = `EXIT STATUS
  0    success
  1    the operation failed (fetch, snapshot, restore, verify or health found a problem)
  2    usage error: bad arguments, bad configuration, an invalid name
  3    partial failure: some repositories failed, the others succeeded
  4    another run holds the lock for a repository or the backup root
  10   not found: the repository or owner does not exist, or the token cannot see it
  12   authentication failed: the token is missing, expired, revoked, lacks access, or was not sent
  130  stopped on request (SIGINT, SIGTERM) before finishing; the next run cleans up
  A run where every repository failed for the same reason exits with that reason's code.`;

export class BackupError extends Error {
  readonly exitCode: ExitCodeValue;
  /** A structured report for machines (--json, action outputs), beside the message for people. */
  readonly details?: unknown;
  /** What the user can do about it, worded by each face (src/hints.ts); the message names no flag or input. */
  readonly hint?: HintCode;
  constructor(message: string, exitCode: ExitCodeValue = ExitCode.FAILURE, options?: { cause?: unknown; details?: unknown; hint?: HintCode }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.details = options?.details;
    this.hint = options?.hint;
  }
}

/** Bad arguments, bad config, an invalid name: nothing was attempted. */
export class UsageError extends BackupError {
  constructor(message: string, hint?: HintCode) {
    super(message, ExitCode.USAGE, { hint });
  }
}

/** Authentication failed (exit 12): a token that is missing, expired, revoked, lacks access or was not sent. */
export class AuthError extends BackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.AUTH, options);
  }
}

/** The repository or owner does not exist, or the credentials cannot see it (exit 10). */
export class NotFoundError extends BackupError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.NOT_FOUND, options);
  }
}

/** Another live process holds the lock. */
export class LockHeldError extends BackupError {
  constructor(message: string) {
    super(message, ExitCode.LOCKED);
  }
}

/** The run was asked to stop (SIGTERM, SIGINT) and stopped between phases, leaving nothing half-made. */
export class AbortedError extends BackupError {
  constructor(message = 'stopped on request before finishing; nothing half-made was left visible') {
    super(message, ExitCode.INTERRUPTED);
  }
}

/** A key the store does not hold. */
export class StoreNotFoundError extends BackupError {
  readonly key: string;
  constructor(location: string, key: string) {
    super(`${location}: no object ${key}`, ExitCode.NOT_FOUND);
    this.key = key;
  }
}

/** The store refused to delete an object because Object Lock retains it. */
export class StoreObjectLockedError extends BackupError {
  readonly key: string;
  constructor(location: string, key: string) {
    super(`${location}: ${key} is under Object Lock retention and cannot be deleted yet`);
    this.key = key;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function hintOf(error: unknown): HintCode | undefined {
  return error instanceof BackupError ? error.hint : undefined;
}

export function exitCodeOf(error: unknown): ExitCodeValue {
  return error instanceof BackupError ? error.exitCode : ExitCode.FAILURE;
}
