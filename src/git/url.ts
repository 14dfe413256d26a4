// Remote URLs reach git only after this check: no transport helpers (ext::, fd::), no option-looking values.
import { isAbsolute, resolve } from 'node:path';
import { UsageError } from '../errors.ts';

export type RemoteKind = 'https' | 'http' | 'ssh' | 'file' | 'path';

const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^:]/;

export interface ValidatedRemote {
  url: string;
  kind: RemoteKind;
}

export function validateRemoteUrl(raw: string): ValidatedRemote {
  const url = raw.trim();
  if (url === '' || url.startsWith('-')) throw new UsageError(`invalid remote ${JSON.stringify(raw)}: must not be empty or start with "-"`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(url)) throw new UsageError(`invalid remote ${JSON.stringify(raw)}: contains control characters`);
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(url)) throw new UsageError(`invalid remote ${JSON.stringify(raw)}: transport helpers ("ext::", "fd::") are not allowed`);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme) {
    if (scheme !== 'https' && scheme !== 'http' && scheme !== 'ssh' && scheme !== 'file') {
      throw new UsageError(`invalid remote ${JSON.stringify(raw)}: scheme ${scheme}:// is not allowed (use https, ssh, file or a local path)`);
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`invalid remote ${JSON.stringify(raw)}: not a valid URL`);
    }
    // Over http(s) a user part alone is how tokens are usually pasted (https://ghp_…@github.com/…); git would store
    // it in the mirror's config. ssh's user (git@) is not a secret.
    if (parsed.password || (parsed.username && (scheme === 'https' || scheme === 'http'))) {
      throw new UsageError('remote URLs must not carry a password or token: give the token through GITHUB_TOKEN instead');
    }
    if (scheme !== 'file' && parsed.hostname.startsWith('-')) throw new UsageError(`invalid remote ${JSON.stringify(raw)}: host looks like an option`);
    return { url, kind: scheme as RemoteKind };
  }
  if (SCP_LIKE.test(url)) return { url, kind: 'ssh' };
  if (url.includes(':') && !isAbsolute(url)) throw new UsageError(`invalid remote ${JSON.stringify(raw)}: not a URL, scp-style address or path`);
  return { url: resolve(url), kind: 'path' };
}
