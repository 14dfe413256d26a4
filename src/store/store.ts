// The seam between the backup engine and wherever off-site copies live (docs/STORE_FORMAT.md). Implementations:
// a local directory and S3-compatible object storage; both pass test/store-conformance.test.ts. A Store moves
// opaque bytes under keys; what the keys mean (content-addressed objects, manifests, the lock) is the format's job.
import type { Readable } from 'node:stream';

/** What a listing or head says about one stored object. */
export interface StoredObject {
  key: string;
  /** Bytes as stored (ciphertext when the store is encrypted). */
  size: number;
  lastModified: Date;
}

/** Object Lock retention for one object: nobody can delete or overwrite it before `until`. */
export interface ObjectRetention {
  mode: 'GOVERNANCE' | 'COMPLIANCE';
  until: Date;
}

export interface PutOnceOptions {
  retention?: ObjectRetention;
  /**
   * The caller has just listed the keys and did not see this one, so a backend may skip asking whether it exists
   * before writing. Write-once still holds: the write stays conditional, and a key that appeared meanwhile comes
   * back as created: false.
   */
  expectAbsent?: boolean;
}

/** A body given as bytes, or as a stream factory (called again for a retry) with its length. */
export type PutBody = Buffer | { size: number; open: () => Readable };

export interface PutOnceResult {
  /** False when the key already existed: nothing was written, the stored object is untouched. */
  created: boolean;
  /** Bytes as stored under the key (ciphertext for an encrypted store). */
  storedSize: number;
}

export interface Store {
  /** Where this store is, for messages and logs (s3://bucket/prefix, a directory). Never holds a credential. */
  readonly location: string;
  /** Write `key` if and only if it does not exist yet. Objects are never overwritten. */
  putOnce(key: string, body: PutBody, options?: PutOnceOptions): Promise<PutOnceResult>;
  /** The whole object; throws StoreNotFoundError when absent. */
  get(key: string): Promise<Buffer>;
  /** The object as a stream; throws StoreNotFoundError when absent. */
  getStream(key: string): Promise<Readable>;
  /** Size and time of `key`, or null when absent. */
  head(key: string): Promise<StoredObject | null>;
  /** Every object whose key starts with `prefix`, in no promised order. */
  list(prefix: string): AsyncIterable<StoredObject>;
  /** Remove `key`; absent is not an error. Fails (StoreObjectLockedError) for an object under Object Lock retention. */
  delete(key: string): Promise<void>;
}
