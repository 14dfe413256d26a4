// Entry point of the backup action: everything happens in run(). A cancelled job gets SIGINT from the runner (then
// SIGTERM 7.5 s later): the run stops its git and unwinds between steps, as the CLI does (docs/OPERATIONS.md).
import * as core from '@actions/core';
import { describeStop } from '../../../src/activity.ts';
import { redactDebugOutput } from '../../../src/debug-redact.ts';
import { redactEverySecret } from '../../../src/redact.ts';
import { stopOnSignals } from '../../../src/stop-signals.ts';
import { run } from './run.ts';

redactDebugOutput();
const signal = stopOnSignals({
  stopping: (sig) => core.warning(`${sig}: ${redactEverySecret(describeStop())} The run stops between steps; the next run completes the backup.`),
  leaving: (sig) => core.error(`stopped at once on a second ${sig}; the next run finishes the cleanup`),
});
await run(signal);
