// Client-side encryption as a Store decorator (docs/STORE_BACKENDS.md "Encryption"): every body is an age file
// encrypted to the X25519 recipients before it reaches the inner store, so the backup side needs only public keys
// and a stolen runner cannot read what it wrote. Reads decrypt with identities from an age-keygen file.
// Both directions stream in 64 KiB age chunks; memory does not grow with the object.
import { readFile } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { Decrypter, Encrypter } from 'age-encryption';
import { BackupError, ExitCode, UsageError } from '../errors.ts';
import type { Redactor } from '../redact.ts';
import { isObjectIndexKey } from './object-index.ts';
import type { PutBody, PutOnceOptions, PutOnceResult, Store, StoredObject } from './store.ts';

const RECIPIENT = /^age1[0-9a-z]{58}$/;
const IDENTITY = /^AGE-SECRET-KEY-(PQ-)?1[0-9A-Z]+$/;

/** Identities from a file in the format age-keygen writes: one per line, `#` comments and blank lines allowed. */
export async function readIdentityFile(path: string, redactor?: Redactor): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new BackupError(`cannot read the age identity file ${path} (BACKUP_AGE_IDENTITY_FILE): ${(error as NodeJS.ErrnoException).code ?? 'error'}`, ExitCode.AUTH);
  }
  return parseIdentities(text, path, redactor);
}

export function parseIdentities(text: string, source: string, redactor?: Redactor): string[] {
  const identities: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    // Register before validating, so even a malformed key never reaches a message.
    redactor?.add(line);
    if (!IDENTITY.test(line)) throw new UsageError(`${source} line ${index + 1}: expected an age identity (AGE-SECRET-KEY-1...)`);
    identities.push(line);
  });
  if (identities.length === 0) throw new UsageError(`${source}: no age identity in the file`);
  return identities;
}

class EncryptedStore implements Store {
  readonly location: string;
  private readonly encrypter = new Encrypter();
  private readonly decrypter: Decrypter | null;
  private sizeFunction: Promise<(plainSize: number) => number> | undefined;
  private readonly inner: Store;

  constructor(inner: Store, recipients: readonly string[], identities: readonly string[]) {
    this.inner = inner;
    if (recipients.length === 0) throw new UsageError('store.encryption.recipients: at least one age recipient is needed');
    for (const recipient of recipients) {
      if (!RECIPIENT.test(recipient)) throw new UsageError(`store.encryption.recipients: ${recipient} is not an age X25519 public key (age1...)`);
      this.encrypter.addRecipient(recipient);
    }
    this.location = inner.location;
    if (identities.length === 0) {
      this.decrypter = null;
    } else {
      this.decrypter = new Decrypter();
      for (const identity of identities) this.decrypter.addIdentity(identity);
    }
  }

  async putOnce(key: string, body: PutBody, options?: PutOnceOptions): Promise<PutOnceResult> {
    // Object indexes hold only keys and sizes a listing shows anyway, and are read by the side without the identity.
    if (isObjectIndexKey(key)) return this.inner.putOnce(key, body, options);
    const plainSize = Buffer.isBuffer(body) ? body.length : body.size;
    const openPlain = Buffer.isBuffer(body) ? () => Readable.from([body]) : body.open;
    // Encryption starts only if the inner store opens the body (it does not when the key exists already).
    const size = (await this.cipherSize())(plainSize);
    return this.inner.putOnce(key, { size, open: () => this.encryptStream(openPlain()) }, options);
  }

  async get(key: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of await this.getStream(key)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async getStream(key: string): Promise<Readable> {
    if (isObjectIndexKey(key)) return this.inner.getStream(key);
    if (!this.decrypter) {
      throw new BackupError(
        `${this.location} is encrypted: set BACKUP_AGE_IDENTITY_FILE to the age identity file to read ${key} (docs/STORE_BACKENDS.md "Encryption")`,
        ExitCode.AUTH,
      );
    }
    const cipher = await this.inner.getStream(key);
    let plain;
    try {
      plain = await this.decrypter.decrypt(Readable.toWeb(cipher) as ReadableStream<Uint8Array>);
    } catch (error) {
      cipher.destroy();
      throw decryptError(this.location, key, error);
    }
    const out = Readable.fromWeb(plain as WebReadableStream<Uint8Array>);
    // A damaged chunk is found mid-stream: say which object, not only what age thinks of it.
    const wrapped = new PassThrough();
    out.on('error', (error) => wrapped.destroy(decryptError(this.location, key, error)));
    // A reader that stops early (destroys the stream) releases the inner stream and its connection too.
    return out.pipe(wrapped).on('close', () => {
      out.destroy();
      cipher.destroy();
    });
  }

  head(key: string): Promise<StoredObject | null> {
    return this.inner.head(key);
  }

  list(prefix: string): AsyncIterable<StoredObject> {
    return this.inner.list(prefix);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  /**
   * The ciphertext size as a function of the plaintext size. It depends only on the header, whose length is fixed
   * for a given list of X25519 recipients, so one empty encryption tells it for every object.
   */
  private cipherSize(): Promise<(plainSize: number) => number> {
    this.sizeFunction ??= this.encrypter.encrypt(emptyWebStream()).then(async (probe) => {
      await probe.cancel();
      return (plainSize: number) => probe.size(plainSize);
    });
    return this.sizeFunction;
  }

  private encryptStream(plain: Readable): Readable {
    const out = new PassThrough();
    this.encrypter
      .encrypt(Readable.toWeb(plain) as ReadableStream<Uint8Array>)
      .then((cipher) => Readable.fromWeb(cipher as WebReadableStream<Uint8Array>).on('error', (error) => out.destroy(error)).pipe(out))
      .catch((error: unknown) => out.destroy(error as Error));
    plain.on('error', (error) => out.destroy(error));
    return out;
  }
}

function decryptError(location: string, key: string, error: unknown): BackupError {
  const why = error instanceof Error ? error.message : String(error);
  if (/no identity matched/i.test(why)) {
    return new BackupError(`${location}: ${key} was not encrypted to any identity in BACKUP_AGE_IDENTITY_FILE`, ExitCode.AUTH);
  }
  return new BackupError(`${location}: ${key} cannot be decrypted (damaged or not an age file): ${why}`);
}

function emptyWebStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({ start: (controller) => controller.close() });
}

/**
 * `inner` with every object encrypted to `recipients` (age X25519 public keys). Reads need `identities`
 * (AGE-SECRET-KEY-1... strings, see readIdentityFile); without them every get fails with a clear error.
 */
export function encryptedStore(inner: Store, recipients: readonly string[], identities: readonly string[] = []): Store {
  return new EncryptedStore(inner, recipients, identities);
}
