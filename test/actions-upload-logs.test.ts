// The log upload with the real @actions/artifact client against a stand-in artifact service on 127.0.0.1.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLogFiles, uploadLogs } from '../actions/backup/src/upload-logs.ts';
import { ArtifactStandIn, readZip } from './helpers/artifact-standin.ts';

let service: ArtifactStandIn;
const saved = { ...process.env };

function logsDir(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'gpb-upload-')), 'logs');
  mkdirSync(dir);
  writeFileSync(join(dir, 'backup-20250101.log'), '2025-01-01T23:59:00Z INFO sync start\n');
  writeFileSync(join(dir, 'backup-20250102.log'), '2025-01-02T00:01:00Z INFO sync done\n');
  writeFileSync(join(dir, 'backup-20241231.log'), 'yesterday\n');
  return dir;
}

beforeEach(async () => {
  service = await new ArtifactStandIn().start();
  Object.assign(process.env, service.env(), { GITHUB_SERVER_URL: 'https://github.com' });
});
afterEach(async () => {
  process.env = { ...saved };
  await service.close();
});

describe('log upload', () => {
  it('picks the daily logs of the days the run spanned', () => {
    const dir = logsDir();
    const files = runLogFiles(dir, new Date('2025-01-01T23:58:00Z'), new Date('2025-01-02T00:02:00Z'));
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['backup-20250101.log', 'backup-20250102.log']);
    expect(runLogFiles(join(dir, 'missing'), new Date(), new Date())).toEqual([]);
  });

  it('uploads them as backup-logs-<run>-<attempt> with 30 days retention through the real artifact client', async () => {
    const dir = logsDir();
    const files = runLogFiles(dir, new Date('2025-01-01T23:58:00Z'), new Date('2025-01-02T00:02:00Z'));
    const outcome = await uploadLogs({ logsDir: dir, files, runId: '77', runAttempt: '3' });

    expect(outcome).toMatchObject({ uploaded: true, name: 'backup-logs-77-3' });
    expect(service.calls).toEqual([
      'POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact',
      'PUT /blobs/artifact-1.zip',
      'PUT /blobs/artifact-1.zip',
      'POST /twirp/github.actions.results.api.v1.ArtifactService/FinalizeArtifact',
    ]);
    expect(service.authorizations.every((a) => a === `Bearer ${ArtifactStandIn.runtimeToken()}`)).toBe(true);
    const artifact = service.artifacts[0]!;
    expect(artifact.createRequest).toMatchObject({ name: 'backup-logs-77-3', workflow_run_backend_id: 'run-backend-1', workflow_job_run_backend_id: 'job-backend-1' });
    const expires = new Date(String(artifact.createRequest.expires_at)).getTime();
    expect(Math.round((expires - Date.now()) / 86_400_000)).toBe(30);
    const zip = readZip(artifact.blob!);
    expect([...zip.keys()].sort()).toEqual(['backup-20250101.log', 'backup-20250102.log']);
    expect(zip.get('backup-20250102.log')!.toString()).toBe('2025-01-02T00:01:00Z INFO sync done\n');
    expect(artifact.finalizeRequest).toMatchObject({ name: 'backup-logs-77-3', size: String(artifact.blob!.length) });
  });

  it('a refused upload is a warning, never an exception', async () => {
    await service.close();
    service = await new ArtifactStandIn({ failCreateWith: 403 }).start();
    Object.assign(process.env, service.env());
    const dir = logsDir();
    const outcome = await uploadLogs({ logsDir: dir, files: [join(dir, 'backup-20250101.log')], runId: '1', runAttempt: '1' });
    expect(outcome.uploaded).toBe(false);
    expect(outcome.reason).toMatch(/CreateArtifact.*403.*artifact storage refused the upload/);
  });

  it('without an artifact service (local runs) it says so and goes on', async () => {
    delete process.env.ACTIONS_RUNTIME_TOKEN;
    const dir = logsDir();
    const outcome = await uploadLogs({ logsDir: dir, files: [join(dir, 'backup-20250101.log')], runId: '1', runAttempt: '1' });
    expect(outcome).toMatchObject({ uploaded: false, reason: 'no artifact service' });
    expect(service.calls).toEqual([]);
  });
});
