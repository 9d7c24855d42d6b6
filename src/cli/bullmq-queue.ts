/**
 * BullMQ's Queue from its own file: bullmq's index loads every class (flows, sandboxed processors,
 * the PostgreSQL backend and its driver). The CLI needs it only to withdraw a request no worker
 * answered. A BullMQ upgrade that moves the file fails the CLI's tests, not silently.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as bullmq from 'bullmq';

export const { Queue } = require('bullmq/dist/cjs/classes/queue') as Pick<typeof bullmq, 'Queue'>;
export type Queue<T> = bullmq.Queue<T>;
