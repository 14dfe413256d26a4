// What authenticates this run to GitHub, git and API alike: a token (personal, fine-grained, the workflow's), GitHub
// App installation tokens minted and renewed as the run goes (app-auth.ts), or nothing. Everything that talks to
// GitHub asks `token` when it starts a request, never keeps the answer: an App's token changes during a long run.
import type { BackupSettings } from '../config.ts';
import type { Redactor } from '../redact.ts';
import { appTokenProvider } from './app-auth.ts';
import type { GitHubClientOptions, TokenProvider } from './client.ts';
import { installationLookup } from './installation.ts';

export interface GitHubCredentials {
  kind: 'token' | 'app' | 'none';
  /** The token to send now; absent with no credentials. */
  token?: TokenProvider;
}

export interface CredentialDeps {
  redactor: Redactor;
  serverUrl: string;
  log: (line: string, fields: Record<string, unknown>) => void;
  onResponse?: GitHubClientOptions['onResponse'];
}

/** An App, when configured, wins over a token: the action's `token` input defaults to the workflow's own. */
export function credentialsFor(settings: BackupSettings, deps: CredentialDeps): GitHubCredentials {
  if (settings.githubApp) {
    const app = settings.githubApp;
    return {
      kind: 'app',
      token: appTokenProvider({
        app,
        apiUrl: settings.apiUrl,
        installation: () => installationLookup(settings.repositories, deps.serverUrl),
        redactor: deps.redactor,
        log: deps.log,
        onResponse: deps.onResponse,
      }),
    };
  }
  const { token } = settings;
  return token ? { kind: 'token', token: () => Promise.resolve(token) } : { kind: 'none' };
}
