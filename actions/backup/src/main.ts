// Entry point of the backup action: everything happens in run().
import { run } from './run.ts';

await run();
