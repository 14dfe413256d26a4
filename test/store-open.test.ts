// openStore: the store a `store:` config section describes, with the identity file and the Redactor wired in.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { BackupError, UsageError } from '../src/errors.ts';
import { Redactor } from '../src/redact.ts';
import { parseIdentities } from '../src/store/encrypted-store.ts';
import { LocalDirStore } from '../src/store/local-store.ts';
import { openStore, parseStoreUrl } from '../src/store/open-store.ts';
import { S3Store } from '../src/store/s3-store.ts';
import { S3RVER_ACCESS_KEY_ID, startS3StandIn, type S3StandIn } from './helpers/s3-standin.ts';

let work: string;
let s3: S3StandIn;
let identity: string;
let recipient: string;
const secret = `open-store-secret-${randomBytes(8).toString('hex')}`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'gpb-open-store-'));
  s3 = await startS3StandIn();
  identity = await generateIdentity();
  recipient = await identityToRecipient(identity);
});

afterAll(async () => {
  await s3?.close();
  rmSync(work, { recursive: true, force: true });
});

const s3Env = (): NodeJS.ProcessEnv => ({ AWS_ACCESS_KEY_ID: S3RVER_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: secret });

describe('parseStoreUrl', () => {
  it('splits s3 URLs into bucket and prefix, and file URLs into a directory', () => {
    expect(parseStoreUrl('s3://my-bucket')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: '' });
    expect(parseStoreUrl('s3://my-bucket/')).toEqual({ kind: 's3', bucket: 'my-bucket', prefix: '' });
    expect(parseStoreUrl('s3://my.bucket/team/github/')).toEqual({ kind: 's3', bucket: 'my.bucket', prefix: 'team/github' });
    expect(parseStoreUrl('file:///mnt/nas/backups/')).toEqual({ kind: 'file', dir: '/mnt/nas/backups' });
    expect(parseStoreUrl('file:///srv/with%20space')).toEqual({ kind: 'file', dir: '/srv/with space' });
  });

  it('refuses what it cannot use, as a usage error', () => {
    for (const url of ['http://bucket/x', 's3://B/x', 's3://a', 's3://bucket/../x', 'file://host/dir', 'bucket/prefix']) {
      expect(() => parseStoreUrl(url), url).toThrow(UsageError);
    }
  });
});

describe('openStore', () => {
  it('file:/// gives a LocalDirStore that works', async () => {
    const store = await openStore({ url: `file://${join(work, 'local')}` }, {});
    expect(store).toBeInstanceOf(LocalDirStore);
    expect(store.location).toBe(`file://${join(work, 'local')}`);
    await store.putOnce('format-version', Buffer.from('1\n'));
    expect((await store.get('format-version')).toString()).toBe('1\n');
  });

  it('s3:// gives an S3Store on the configured endpoint, path-style, with credentials from the environment chain', async () => {
    const redactor = new Redactor();
    const saved = { ...process.env };
    Object.assign(process.env, s3Env());
    try {
      const store = await openStore({ url: 's3://backups/open-test', endpoint: s3.url, region: 'eu-west-1', forcePathStyle: true }, s3Env(), { redactor });
      expect(store).toBeInstanceOf(S3Store);
      expect(store.location).toBe('s3://backups/open-test');
      await store.putOnce('format-version', Buffer.from('1\n'));
      expect(s3.objectBytes('open-test/format-version')?.toString()).toBe('1\n');
      const put = s3.requests.find((r) => r.method === 'PUT' && r.path === '/backups/open-test/format-version')!;
      expect(put.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${S3RVER_ACCESS_KEY_ID}/\\d{8}/eu-west-1/s3/aws4_request`));
      expect(redactor.redact(`key is ${secret}`)).toBe('key is ***');
    } finally {
      process.env = saved;
    }
  });

  it('with encryption: writes need only recipients; reads need BACKUP_AGE_IDENTITY_FILE, in age-keygen format', async () => {
    const url = `file://${join(work, 'encrypted')}`;
    const writer = await openStore({ url, encryption: { recipients: [recipient] } }, {});
    await writer.putOnce('objects/secret', Buffer.from('plaintext'));
    const error = await writer.get('objects/secret').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupError);
    expect((error as BackupError).exitCode).toBe(12);
    expect((error as Error).message).toContain('BACKUP_AGE_IDENTITY_FILE');

    const identityFile = join(work, 'key.txt');
    writeFileSync(identityFile, `# created: 2026-12-01T10:00:00Z\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
    const redactor = new Redactor();
    const reader = await openStore({ url, encryption: { recipients: [recipient] } }, { BACKUP_AGE_IDENTITY_FILE: identityFile }, { redactor });
    expect((await reader.get('objects/secret')).toString()).toBe('plaintext');
    expect(redactor.redact(`identity ${identity}`)).toBe('identity ***');
  });

  it('a wrong identity or a missing identity file is a clear authentication error', async () => {
    const url = `file://${join(work, 'encrypted-2')}`;
    const writer = await openStore({ url, encryption: { recipients: [recipient] } }, {});
    await writer.putOnce('objects/x', Buffer.from('x'));
    const other = join(work, 'other.txt');
    writeFileSync(other, `${await generateIdentity()}\n`);
    const wrong = await openStore({ url, encryption: { recipients: [recipient] } }, { BACKUP_AGE_IDENTITY_FILE: other });
    await expect(wrong.get('objects/x')).rejects.toMatchObject({ exitCode: 12, message: expect.stringContaining('not encrypted to any identity') });
    await expect(openStore({ url, encryption: { recipients: [recipient] } }, { BACKUP_AGE_IDENTITY_FILE: join(work, 'absent.txt') })).rejects.toMatchObject({
      exitCode: 12,
      message: expect.stringContaining('cannot read the age identity file'),
    });
  });
});

describe('parseIdentities', () => {
  it('skips comments and blank lines, refuses other content without echoing it', () => {
    expect(parseIdentities(`# comment\n\n  ${'AGE-SECRET-KEY-1' + 'Q'.repeat(58)}  \r\n`, 'f')).toEqual(['AGE-SECRET-KEY-1' + 'Q'.repeat(58)]);
    expect(() => parseIdentities('# only comments\n', 'f')).toThrow(/no age identity/);
    const leaked = 'AGE-SECRET-KEY-1-not-valid-but-secret';
    const error = (() => {
      try {
        parseIdentities(`${leaked}\n`, 'key.txt');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toBe('key.txt line 1: expected an age identity (AGE-SECRET-KEY-1...)');
  });
});
