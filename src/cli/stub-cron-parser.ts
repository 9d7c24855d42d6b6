/**
 * Bundled for `cron-parser` in the CLI's request half (`npm run build:cli`): BullMQ's queue loads it
 * (and Luxon) for job schedulers, which the CLI never creates. Used anyway, it says so.
 */
export const CronExpressionParser = {
  parse(): never {
    throw new Error('cron-parser is not part of the CLI bundle: the CLI creates no job schedulers');
  },
};
