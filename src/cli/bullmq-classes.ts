/**
 * The two BullMQ classes the CLI uses, from their own files: bullmq's index loads every class
 * (flows, sandboxed processors, the PostgreSQL backend and its driver), and a dry run would compile
 * them all each time. A BullMQ upgrade that moves these files fails the CLI's tests, not silently.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as bullmq from 'bullmq';

export const { Queue } = require('bullmq/dist/cjs/classes/queue') as Pick<typeof bullmq, 'Queue'>;
export type Queue<T> = bullmq.Queue<T>;
export const { QueueEvents } = require('bullmq/dist/cjs/classes/queue-events') as Pick<
  typeof bullmq,
  'QueueEvents'
>;
export type QueueEvents = bullmq.QueueEvents;
