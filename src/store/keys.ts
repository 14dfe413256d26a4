// Which strings may name an object in a store (docs/STORE_BACKENDS.md "Keys"). One rule for every backend, so a key
// that works on a local directory works on S3 and the other way round, and a hostile key read back from a
// manifest can never climb out of a local store's directory.
import { BackupError } from '../errors.ts';

/** Characters a key segment may hold; `/` separates segments. `#` is kept out so backends can use it privately. */
const SEGMENT = /^[A-Za-z0-9._\-+=@,]+$/;
/** S3 allows 1024 bytes; a local path needs room for the root and a temporary suffix. */
export const MAX_KEY_LENGTH = 512;
const MAX_SEGMENT_LENGTH = 200;

export class InvalidStoreKeyError extends BackupError {
  constructor(key: string, why: string) {
    super(`invalid store key ${JSON.stringify(key.slice(0, 80))}: ${why}`);
  }
}

/** Why `key` is not a valid object key, or null when it is. */
export function keyProblem(key: string): string | null {
  if (key.length === 0) return 'empty';
  if (key.length > MAX_KEY_LENGTH) return `longer than ${MAX_KEY_LENGTH} characters`;
  for (const segment of key.split('/')) {
    if (segment === '') return 'empty segment (leading, trailing or doubled "/")';
    if (segment === '.' || segment === '..') return `"${segment}" segment`;
    if (segment.length > MAX_SEGMENT_LENGTH) return `segment longer than ${MAX_SEGMENT_LENGTH} characters`;
    if (!SEGMENT.test(segment)) return 'only letters, digits and . _ - + = @ , are allowed between slashes';
  }
  return null;
}

export function assertValidKey(key: string): void {
  const problem = keyProblem(key);
  if (problem) throw new InvalidStoreKeyError(key, problem);
}

/** A listing prefix: empty, or a key, or a key followed by "/", or a key cut anywhere. */
export function assertValidPrefix(prefix: string): void {
  if (prefix === '') return;
  // "objects/" is checked as "objects"; a last segment cut short ("objects/.", "manifests/o/.gi") is checked as
  // the start of a longer name, so it is not taken for a "." or ".." segment.
  const whole = prefix.endsWith('/');
  const trimmed = whole ? prefix.slice(0, -1) : `${prefix}x`;
  const problem = trimmed === '' ? 'leading "/"' : keyProblem(trimmed);
  if (problem) throw new InvalidStoreKeyError(prefix, problem);
}
