// Entry point of the report-failure action: everything happens in run().
import { run } from './run.ts';

await run();
