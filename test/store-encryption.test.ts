// The encrypted store keeps no plaintext anywhere the store's owner (or a thief of the bucket) can look: a unique
// string planted in every kind of body is searched for in every file s3rver wrote and in every request body the
// proxy saw. The writer needs only the public key; damaged ciphertext is refused, never returned.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { BackupError } from '../src/errors.ts';
import { encryptedStore } from '../src/store/encrypted-store.ts';
import { LocalDirStore } from '../src/store/local-store.ts';
import type { Store } from '../src/store/store.ts';
import { S3RVER_ACCESS_KEY_ID, startS3StandIn, type S3StandIn } from './helpers/s3-standin.ts';
import { streamBody } from './helpers/store-conformance.ts';

const PART = 5 * 1024 * 1024;
const PLANT = `planted-plaintext-${randomBytes(16).toString('hex')}`;
let s3: S3StandIn;
let work: string;
let identity: string;
let recipient: string;
let savedEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  savedEnv = { ...process.env };
  process.env.AWS_ACCESS_KEY_ID = S3RVER_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = `enc-secret-${randomBytes(8).toString('hex')}`;
  s3 = await startS3StandIn();
  work = mkdtempSync(join(tmpdir(), 'gpb-enc-'));
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
});

afterAll(async () => {
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
  process.env = savedEnv;
});

/** Bodies of every shape a push makes: a small manifest, a pack streamed in parts, the plant repeated, tiny. */
function plantedBodies(): { key: string; plain: Buffer; streamed: boolean }[] {
  const big = Buffer.concat([randomBytes(PART), Buffer.from(PLANT), randomBytes(PART), Buffer.from(PLANT)]);
  return [
    { key: 'snapshots/o/r/snapshot-20260101-000000.json', plain: Buffer.from(JSON.stringify({ refs: { [`refs/heads/${PLANT}`]: 'x' } })), streamed: false },
    { key: 'objects/pack/big', plain: big, streamed: true },
    { key: 'objects/pack/repeated', plain: Buffer.from(PLANT.repeat(5000)), streamed: true },
    { key: 'objects/tiny', plain: Buffer.from(PLANT), streamed: false },
  ];
}

const BODIES = plantedBodies();

async function writeAll(store: Store): Promise<void> {
  for (const { key, plain, streamed } of BODIES) {
    expect((await store.putOnce(key, streamed ? streamBody(plain) : plain)).created).toBe(true);
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('no plaintext in the store with encryption', () => {
  it('S3: no object, metadata file or request body holds the planted string; every object is an age file', async () => {
    const writer = encryptedStore(s3.store('enc', { partSize: PART }), [recipient]);
    await writeAll(writer);
    const files = s3.storedFiles();
    expect(files.filter((f) => f.path.endsWith('._S3rver_object'))).toHaveLength(4);
    for (const file of files) expect(file.bytes.includes(PLANT), file.path).toBe(false);
    for (const request of s3.requests) expect(request.body.includes(PLANT), `${request.method} ${request.url}`).toBe(false);
    for (const file of files.filter((f) => f.path.endsWith('._S3rver_object'))) {
      expect(file.bytes.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    }
    // Any age implementation with the identity reads them: here a fresh Decrypter, nothing of ours.
    const decrypter = new Decrypter();
    decrypter.addIdentity(identity);
    const tiny = s3.objectBytes('enc/objects/tiny')!;
    expect(Buffer.from(await decrypter.decrypt(tiny)).toString()).toBe(PLANT);
  });

  it('local directory: no file under the store holds the planted string', async () => {
    const dir = join(work, 'local');
    await writeAll(encryptedStore(new LocalDirStore(dir), [recipient]));
    const files = filesUnder(dir);
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const path of files) expect(readFileSync(path).includes(PLANT), path).toBe(false);
    // Control: without encryption the same bodies do hold it, so the search above can find it.
    const plainDir = join(work, 'plain');
    await writeAll(new LocalDirStore(plainDir));
    expect(filesUnder(plainDir).some((path) => readFileSync(path).includes(PLANT))).toBe(true);
  });

  it('the writer holds only the public key and cannot read back; the identity holder reads every body exactly', async () => {
    const inner = s3.store('enc-read', { partSize: PART });
    const writer = encryptedStore(inner, [recipient]);
    await writeAll(writer);
    await expect(writer.get('objects/tiny')).rejects.toMatchObject({ exitCode: 12, message: expect.stringContaining('BACKUP_AGE_IDENTITY_FILE') });
    const reader = encryptedStore(inner, [recipient], [identity]);
    for (const { key, plain } of BODIES) expect((await reader.get(key)).equals(plain), key).toBe(true);
  });

  it('two recipients: either identity decrypts', async () => {
    const second = await generateIdentity();
    const store = new LocalDirStore(join(work, 'two'));
    await encryptedStore(store, [recipient, await identityToRecipient(second)]).putOnce('k', Buffer.from('for both'));
    expect((await encryptedStore(store, [recipient], [identity]).get('k')).toString()).toBe('for both');
    expect((await encryptedStore(store, [recipient], [second]).get('k')).toString()).toBe('for both');
  });
});

// The format is plain age: the age command line tool (Debian package "age") reads what we write and the other way
// round, which is what docs/STORE_FORMAT.md "Restoring by hand" relies on. Runs where the tool is installed.
const hasAgeCli = spawnSync('age', ['--version']).status === 0;

describe.runIf(hasAgeCli)('interoperability with the age command line tool', () => {
  it('age -d reads our objects (small and chunked); we read what age -r wrote', async () => {
    const dir = join(work, 'cli');
    const keyFile = join(work, 'cli-key.txt');
    execFileSync('age-keygen', ['-o', keyFile], { stdio: 'ignore' });
    const cliIdentity = readFileSync(keyFile, 'utf8').split('\n').find((line) => line.startsWith('AGE-SECRET-KEY-1'))!;
    const cliRecipient = await identityToRecipient(cliIdentity);
    const inner = new LocalDirStore(dir);
    const store = encryptedStore(inner, [cliRecipient], [cliIdentity]);
    const big = randomBytes(3 * 65536 + 5);
    await store.putOnce('objects/big', streamBody(big));
    expect(execFileSync('age', ['-d', '-i', keyFile, join(dir, 'objects', 'big')]).equals(big)).toBe(true);
    const fromCli = execFileSync('age', ['-r', cliRecipient], { input: 'written by age' });
    await inner.putOnce('objects/from-cli', fromCli);
    expect((await store.get('objects/from-cli')).toString()).toBe('written by age');
  });
});

describe('damaged ciphertext is refused, never returned', () => {
  it('a flipped byte in the payload, a flipped byte in the header, a truncated object', async () => {
    const dir = join(work, 'damage');
    const inner = new LocalDirStore(dir);
    const store = encryptedStore(inner, [recipient], [identity]);
    const plain = randomBytes(200_000);
    for (const key of ['payload', 'header', 'truncated']) await store.putOnce(key, plain);
    const damage = (key: string, change: (bytes: Buffer) => Buffer): void => {
      const path = join(dir, key);
      const bytes = change(readFileSync(path));
      rmSync(path);
      writeFileSync(path, bytes);
    };
    damage('payload', (b) => {
      b[b.length - 70_000]! ^= 0x01;
      return b;
    });
    damage('header', (b) => {
      b[30]! ^= 0x01;
      return b;
    });
    damage('truncated', (b) => b.subarray(0, b.length - 1000));
    for (const key of ['payload', 'header', 'truncated']) {
      const error = await store.get(key).catch((e: unknown) => e);
      expect(error, key).toBeInstanceOf(BackupError);
      expect((error as Error).message, key).toMatch(new RegExp(`^file://${dir}: ${key} (cannot be decrypted|was not encrypted)`));
    }
  });

  it('rejects recipients that are not age X25519 public keys', () => {
    expect(() => encryptedStore(new LocalDirStore(join(work, 'x')), ['age1notakey'])).toThrow(/not an age X25519 public key/);
    expect(() => encryptedStore(new LocalDirStore(join(work, 'x')), [])).toThrow(/at least one age recipient/);
  });
});
