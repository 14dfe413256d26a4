// One conformance suite (test/helpers/store-conformance.ts) against every backend: the local directory, S3 on a
// real s3rver behind the recording proxy, and the age-encrypted decorator over each.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { encryptedStore } from '../src/store/encrypted-store.ts';
import { LocalDirStore } from '../src/store/local-store.ts';
import type { Store } from '../src/store/store.ts';
import { S3RVER_ACCESS_KEY_ID, startS3StandIn, type S3StandIn } from './helpers/s3-standin.ts';
import { collect, describeStoreConformance, type StoreUnderTest } from './helpers/store-conformance.ts';

const PART_SIZE = 5 * 1024 * 1024;
let s3: S3StandIn;
let identity: string;
let recipient: string;

beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = S3RVER_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = `conformance-secret-${randomBytes(8).toString('hex')}`;
  s3 = await startS3StandIn();
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
});

afterAll(async () => {
  await s3?.close();
});

function localStore(): StoreUnderTest {
  const dir = mkdtempSync(join(tmpdir(), 'gpb-store-'));
  return { store: new LocalDirStore(join(dir, 'store')), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Each test gets its own prefix in the one bucket; cleanup empties it. */
function s3Store(): StoreUnderTest {
  const store = s3.store(`conformance/${randomBytes(6).toString('hex')}`, { partSize: PART_SIZE, listPageSize: 25 });
  return { store, cleanup: () => emptyStore(store) };
}

async function emptyStore(store: Store): Promise<void> {
  for (const object of await collect(store.list(''))) await store.delete(object.key).catch(() => undefined);
}

function encrypted(under: StoreUnderTest): StoreUnderTest {
  return { store: encryptedStore(under.store, [recipient], [identity]), cleanup: under.cleanup };
}

describeStoreConformance('LocalDirStore', { open: async () => localStore(), atomicPutOnce: true, retention: true, largeBody: 6 * 1024 * 1024 });
describeStoreConformance('S3Store on s3rver', { open: async () => s3Store(), atomicPutOnce: true, retention: true, largeBody: PART_SIZE });
describeStoreConformance('encrypted LocalDirStore', {
  open: async () => encrypted(localStore()),
  atomicPutOnce: true,
  retention: true,
  largeBody: 6 * 1024 * 1024,
  transformsBytes: true,
});
describeStoreConformance('encrypted S3Store on s3rver', {
  open: async () => encrypted(s3Store()),
  atomicPutOnce: true,
  retention: true,
  largeBody: PART_SIZE,
  transformsBytes: true,
});
