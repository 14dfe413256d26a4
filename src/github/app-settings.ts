// GitHub App credentials (docs/OPERATIONS.md "GitHub App authentication"): an app id and its private key, from the
// environment or action inputs only, never a config file. Pure apart from reading the key file; the key stays in
// memory and is never printed, not even in an error about it.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.ts';

export interface GitHubAppSettings {
  appId: string;
  /** Secret: PEM text (PKCS#1 "RSA PRIVATE KEY" as GitHub issues it, or PKCS#8). */
  privateKey: string;
  /** Without it, the installation is looked up from the configured owner (one owner per run). */
  installationId?: number;
}

export interface GitHubAppInput {
  appId?: string;
  privateKey?: string;
  privateKeyFile?: string;
  installationId?: string;
}

const PEM = /-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]+-----END (RSA |EC )?PRIVATE KEY-----/;

/** `where` names the source for messages: env variables or action inputs. */
export function parseGitHubApp(input: GitHubAppInput, where: { appId: string; privateKey: string; privateKeyFile: string; installationId: string }): GitHubAppSettings | undefined {
  const appId = input.appId?.trim() ?? '';
  const hasKey = Boolean(input.privateKey?.trim() || input.privateKeyFile?.trim());
  if (!appId && !hasKey) return undefined;
  if (!appId) throw new UsageError(`${where.privateKey} is set but ${where.appId} is not: a GitHub App needs both`);
  if (!/^\d{1,12}$/.test(appId)) throw new UsageError(`${where.appId} must be the App's numeric id, got ${JSON.stringify(appId)}`);
  if (!hasKey) throw new UsageError(`${where.appId} is set but neither ${where.privateKey} nor ${where.privateKeyFile} is: a GitHub App needs its private key`);
  if (input.privateKey?.trim() && input.privateKeyFile?.trim()) throw new UsageError(`set ${where.privateKey} or ${where.privateKeyFile}, not both`);
  let privateKey: string;
  if (input.privateKeyFile?.trim()) {
    const path = input.privateKeyFile.trim();
    try {
      privateKey = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${where.privateKeyFile} ${path}: ${(error as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  } else {
    privateKey = input.privateKey!;
  }
  // A key pasted into one line of an env file keeps its newlines as "\n".
  privateKey = privateKey.replace(/\\n/g, '\n').trim();
  if (!PEM.test(privateKey)) throw new UsageError(`${input.privateKeyFile?.trim() ? where.privateKeyFile : where.privateKey} is not a PEM private key (-----BEGIN RSA PRIVATE KEY----- ...); its content is not shown`);
  const rawInstallation = input.installationId?.trim() ?? '';
  if (rawInstallation && !/^\d{1,15}$/.test(rawInstallation)) throw new UsageError(`${where.installationId} must be a numeric installation id, got ${JSON.stringify(rawInstallation)}`);
  return { appId, privateKey, ...(rawInstallation ? { installationId: Number(rawInstallation) } : {}) };
}

export const ENV_NAMES = {
  appId: 'GITHUB_APP_ID',
  privateKey: 'GITHUB_APP_PRIVATE_KEY',
  privateKeyFile: 'GITHUB_APP_PRIVATE_KEY_FILE',
  installationId: 'GITHUB_APP_INSTALLATION_ID',
} as const;

export function envGitHubApp(env: NodeJS.ProcessEnv): GitHubAppSettings | undefined {
  return parseGitHubApp(
    { appId: env.GITHUB_APP_ID, privateKey: env.GITHUB_APP_PRIVATE_KEY, privateKeyFile: env.GITHUB_APP_PRIVATE_KEY_FILE, installationId: env.GITHUB_APP_INSTALLATION_ID },
    ENV_NAMES,
  );
}
