// Builds the Store that a `store:` section of backup.config.yml describes (docs/STORE_BACKENDS.md).
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.ts';
import type { StoreConfig } from '../config.ts';
import type { Redactor } from '../redact.ts';
import { LocalDirStore } from './local-store.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /** Secrets met on the way (AWS keys in the environment, the age identity) are added to it. */
  redactor?: Redactor;
  clock?: () => Date;
}

/** The environment variable naming the age identity file (restore and hydrate need it; backups do not). */
export const IDENTITY_FILE_ENV = 'BACKUP_AGE_IDENTITY_FILE';

/** Where `url` points: an S3 bucket and prefix, or a local directory. */
export function parseStoreUrl(url: string): { kind: 's3'; bucket: string; prefix: string } | { kind: 'file'; dir: string } {
  if (url.startsWith('s3://')) {
    const rest = url.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new UsageError(`store.url: invalid bucket name in ${url}`);
    if (prefix.split('/').some((segment) => segment === '..' || segment === '.')) throw new UsageError(`store.url: "." and ".." are not allowed in the prefix`);
    return { kind: 's3', bucket, prefix };
  }
  if (url.startsWith('file://')) {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch {
      throw new UsageError(`store.url: ${url} is not a valid file:/// URL`);
    }
    if (!isAbsolute(dir)) throw new UsageError(`store.url: ${url} must name an absolute directory`);
    return { kind: 'file', dir: dir.replace(/\/+$/, '') || '/' };
  }
  throw new UsageError(`store.url: expected s3://BUCKET/PREFIX or file:///DIR, got ${url}`);
}

/**
 * The configured store, encrypted when `encryption.recipients` is set. The identity for decryption is read from
 * BACKUP_AGE_IDENTITY_FILE when that is set; without it the store still writes, and reads fail with a clear error.
 */
export async function openStore(config: StoreConfig, env: NodeJS.ProcessEnv = process.env, options: OpenStoreOptions = {}): Promise<Store> {
  options.redactor?.add(env.AWS_SECRET_ACCESS_KEY);
  options.redactor?.add(env.AWS_SESSION_TOKEN);
  const target = parseStoreUrl(config.url);
  // The S3 SDK and age are loaded only by a run that uses them: every other run starts faster and smaller, and so
  // forks each git faster (docs/BENCHMARKS.md "Scale").
  const base: Store =
    target.kind === 'file'
      ? new LocalDirStore(target.dir, { clock: options.clock })
      : new (await import('./s3-store.ts')).S3Store({
          bucket: target.bucket,
          prefix: target.prefix,
          endpoint: config.endpoint,
          region: config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
          forcePathStyle: config.forcePathStyle,
        });
  if (!config.encryption) return base;
  const { encryptedStore, readIdentityFile } = await import('./encrypted-store.ts');
  const identityFile = env[IDENTITY_FILE_ENV];
  const identities = identityFile ? await readIdentityFile(identityFile, options.redactor) : [];
  return encryptedStore(base, config.encryption.recipients, identities);
}
