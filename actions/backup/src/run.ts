// The backup action as a script of named phases: read inputs, restore the root from the Actions cache (GitHub-hosted
// runners), run the engine command, read status, save the root to the cache, write the summary and outputs, upload
// the logs (whatever happened), then report success or fail the step.
import * as core from '@actions/core';
import { createEngine } from '../../../src/engine/index.ts';
import type { Engine } from '../../../src/engine/api.ts';
import { tmpdir } from 'node:os';
import { ExitCode, errorMessage, exitCodeOf, hintOf, type ExitCodeValue } from '../../../src/errors.ts';
import { withHint } from '../../../src/hints.ts';
import { OPERATIONS, parseInput, type ActionOperation, type OperationResult } from '../../../src/operations/index.ts';
import { Layout } from '../../../src/layout.ts';
import type { Logger } from '../../../src/log.ts';
import { Redactor } from '../../../src/redact.ts';
import type { RunResult, StatusRepoResult } from '../../../src/types.ts';
import { getInputs, type BackupAction, type BackupActionSettings } from './input-helper.ts';
import { describeRootCache, logRootCache, restoreRoot, rootCacheKeys, saveRoot, type RestoreOutcome, type SaveOutcome } from './root-cache.ts';
import { computeOutputs, failureMessage, renderSummary, type AnyRepoResult } from './summary.ts';
import { runLogFiles, uploadLogs } from './upload-logs.ts';
import { uploadShardResult } from './upload-result.ts';

/** Engine log lines (already redacted by the engine) shown in the step's log. */
const actionLogger: Logger = {
  log(level, message) {
    if (level === 'error') core.error(message);
    else if (level === 'warn') core.warning(message);
    else if (level === 'debug') core.debug(message);
    else core.info(message);
  },
};

/** Commands after which the root differs and is worth saving to the cache. */
const WRITES_ROOT: ReadonlySet<BackupAction> = new Set(['init', 'sync', 'snapshot', 'prune', 'restore']);

type ActionResult = Extract<OperationResult, { command: ActionOperation }>;

function runCommand(engine: Engine, input: BackupActionSettings): Promise<ActionResult> {
  const snapshot = input.snapshot;
  switch (input.action) {
    case 'init':
      return OPERATIONS.init.run(engine, {});
    case 'sync':
      return OPERATIONS.sync.run(engine, {});
    case 'snapshot':
      return OPERATIONS.snapshot.run(engine, {});
    case 'status':
      return OPERATIONS.status.run(engine, {});
    case 'verify':
      return OPERATIONS.verify.run(engine, parseInput(OPERATIONS.verify, snapshot === 'all' ? { all: true } : { snapshot }));
    case 'prune':
      return OPERATIONS.prune.run(engine, parseInput(OPERATIONS.prune, { retentionDays: input.settings.retentionDays }));
    case 'restore':
      return OPERATIONS.restore.run(engine, parseInput(OPERATIONS.restore, { snapshot }));
    case 'store push':
      return OPERATIONS['store push'].run(engine, {});
    case 'store list':
      return OPERATIONS['store list'].run(engine, {});
    case 'store verify':
      return OPERATIONS['store verify'].run(engine, {});
    case 'store prune':
      return OPERATIONS['store prune'].run(engine, {});
  }
}

export async function run(signal: AbortSignal = new AbortController().signal): Promise<void> {
  const startedAt = new Date();
  let input: BackupActionSettings;
  try {
    input = getInputs();
  } catch (error) {
    core.setFailed(errorMessage(error));
    return;
  }
  const redactor = new Redactor();
  redactor.add(input.settings.token);
  redactor.add(input.settings.githubApp?.privateKey);
  const layout = new Layout(input.settings.root);
  core.info(`backup ${input.action}: root ${layout.root}, ${input.settings.repositories.length} configured repository entries`);

  const cacheKeys = rootCacheKeys(input.rootCache.keyPrefix, input.runId, input.runAttempt);
  let restored: RestoreOutcome | undefined;
  let saved: SaveOutcome | undefined;
  if (input.rootCache.enabled) {
    restored = await core.group('Restore the root from the Actions cache', () => restoreRoot(layout.root, cacheKeys));
    logRootCache(restored, undefined);
  }

  let result: RunResult<AnyRepoResult> | undefined;
  let status: RunResult<StatusRepoResult> | undefined;
  let crash: string | undefined;
  let crashCode: ExitCodeValue = ExitCode.FAILURE;
  try {
    const engine = createEngine({ settings: input.settings, logger: actionLogger, signal });
    const ran = await core.group(`Run ${input.action}`, () => runCommand(engine, input));
    result = ran;
    status = await core.group('Read status', async () => {
      if (ran.command === 'status') return ran;
      try {
        return await engine.status();
      } catch (error) {
        core.warning(`could not read status after ${input.action}: ${redactor.redact(errorMessage(error))}`);
        return undefined;
      }
    });
  } catch (error) {
    crash = redactor.redact(withHint(errorMessage(error), hintOf(error), 'action'));
    crashCode = exitCodeOf(error);
  }

  // A cancelled job has seconds left before the runner kills it: spend them on the summary, not on a cache upload.
  if (input.rootCache.enabled && result && WRITES_ROOT.has(input.action) && !signal.aborted) {
    saved = await core.group('Save the root to the Actions cache', () => saveRoot(layout.root, cacheKeys));
    logRootCache(undefined, saved);
  }

  core.setOutput('cache-restored-key', restored?.kind === 'restored' ? restored.key : '');
  if (result) {
    await core.group('Write summary and outputs', async () => {
      const outputs = computeOutputs(result, status);
      for (const [name, value] of Object.entries(outputs)) core.setOutput(name, value);
      const cacheLine = input.rootCache.enabled ? `${describeRootCache(restored, saved)}\n` : '';
      if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(renderSummary(result, status) + cacheLine, true).write();
    });
  } else {
    core.setOutput('updated', 'false');
    core.setOutput('failed-repositories', '');
  }

  const { shard } = input.settings;
  if (shard) {
    // The merge job's input: this shard's result, or a run that crashed before it had one.
    const reported = result ?? { command: input.action, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), outcomes: [], failed: [], exitCode: crashCode };
    await core.group(`Upload the result of shard ${shard.index}/${shard.count}`, () =>
      uploadShardResult({ result: redactor.redactDeep(reported), shard, runId: input.runId, runAttempt: input.runAttempt, tempDir: process.env.RUNNER_TEMP || tmpdir() }),
    );
  }

  if (input.uploadLogs && !signal.aborted) {
    await core.group('Upload logs', async () => {
      const files = runLogFiles(layout.logsDir, startedAt, new Date());
      await uploadLogs({ logsDir: layout.logsDir, files, runId: input.runId, runAttempt: input.runAttempt });
    });
  }

  if (signal.aborted) {
    core.setFailed(`backup ${input.action} was stopped by a signal (the job was cancelled): nothing is half-done; the next run completes the backup`);
    process.exitCode = ExitCode.INTERRUPTED;
  } else if (crash !== undefined) {
    core.setFailed(`backup ${input.action} failed: ${crash}`);
  } else if (result && (result.exitCode !== 0 || result.failed.length)) {
    // verify reports damage as a failed repository (with the report in its details), so one path serves all.
    const message = result.failed.length ? failureMessage(result) : `backup ${result.command} finished with exit code ${result.exitCode}`;
    core.setFailed(redactor.redact(message));
  }
}
