/**
 * `cron-parser` in the server bundle (`npm run build:server` aliases it here): bundled BullMQ's
 * Queue requires it as it loads, and this stands for it until a job scheduler with a cron pattern
 * needs it (deferred-cron-parser.ts). The real one then comes from node_modules, BullMQ's own copy.
 */
import { deferredExports, loadBullmqCronParser } from './deferred-cron-parser';

let real: object | undefined;
const cronParser = deferredExports(() => (real ??= loadBullmqCronParser()));
export = cronParser;
