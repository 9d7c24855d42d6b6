/**
 * A job added to a BullMQ queue without BullMQ's Queue: loading BullMQ (its Lua scripts, msgpackr,
 * ioredis) cost the CLI more than the rest of its request. It sends what `Queue.add` sends for a job
 * without id, delay, priority, parent or deduplication (redis-queue-backend's addJobToTransaction and
 * addStandardJobArgs): BullMQ's own script and key names, taken from the installed BullMQ. Its tests
 * compare the stored job with one `Queue.add` stores, so a BullMQ that sends otherwise fails them.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type { Arg } from './resp';

const { addStandardJob } = require('bullmq/dist/cjs/scripts/addStandardJob-9') as {
  addStandardJob: { content: string; keys: number };
};
type Keys = Record<string, string>;
const { QueueKeys } = require('bullmq/dist/cjs/classes/queue-keys') as {
  QueueKeys: new (prefix: string) => { getKeys(name: string): Keys };
};

/** msgpack as BullMQ's packer writes it (msgpackr, no records, undefined as nil), for the values sent. */
export function pack(value: unknown): Buffer {
  const out: number[] = [];
  const write = (v: unknown): void => {
    if (v === null || v === undefined) out.push(0xc0);
    else if (typeof v === 'boolean') out.push(v ? 0xc3 : 0xc2);
    else if (typeof v === 'number') writeNumber(out, v);
    else if (typeof v === 'string') writeString(out, v);
    else if (Array.isArray(v)) {
      if (v.length < 0x10) out.push(0x90 | v.length);
      else if (v.length < 0x10000) out.push(0xdc, v.length >> 8, v.length & 0xff);
      else throw new Error('pack: arrays of 64 Ki items or more are not needed');
      v.forEach(write);
    } else if (typeof v === 'object') {
      const entries = Object.entries(v);
      out.push(0xde, entries.length >> 8, entries.length & 0xff);
      for (const [k, x] of entries) {
        writeString(out, k);
        write(x);
      }
    } else throw new Error(`pack: a ${typeof v} is not needed`);
  };
  write(value);
  return Buffer.from(out);
}

function writeNumber(out: number[], n: number): void {
  /** A type byte, then `x` big-endian in `bytes` bytes. */
  const typed = (type: number, bytes: number, x: number) => {
    out.push(type);
    for (let i = bytes - 1; i >= 0; i--) out.push(Math.floor(x / 2 ** (8 * i)) & 0xff);
  };
  if (n >>> 0 === n) {
    if (n < 0x80) out.push(n);
    else if (n < 0x100) typed(0xcc, 1, n);
    else if (n < 0x10000) typed(0xcd, 2, n);
    else typed(0xce, 4, n);
  } else if (n >> 0 === n) {
    if (n >= -0x20) out.push(n & 0xff);
    else if (n >= -0x80) typed(0xd0, 1, n & 0xff);
    else if (n >= -0x8000) typed(0xd1, 2, n & 0xffff);
    else typed(0xd2, 4, n >>> 0);
  } else {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(n);
    out.push(0xcb, ...b);
  }
}

function writeString(out: number[], s: string): void {
  const b = Buffer.from(s, 'utf8');
  if (b.length < 0x20) out.push(0xa0 | b.length);
  else if (b.length < 0x100) out.push(0xd9, b.length);
  else if (b.length < 0x10000) out.push(0xda, b.length >> 8, b.length & 0xff);
  else throw new Error('pack: strings of 64 KiB or more are not needed');
  out.push(...b);
}

/** The keys of a queue, named as BullMQ names them. */
export const queueKeys = (prefix: string, queue: string): Keys => new QueueKeys(prefix).getKeys(queue);

export interface JobToAdd {
  name: string;
  data: unknown;
  /** Job options BullMQ stores as they are (removeOnComplete, removeOnFail, attempts, …). */
  opts: Record<string, unknown>;
  timestamp: number;
}

/** The EVAL that adds `job` to the queue and answers its new id, as `Queue.add` would. */
export function addJobCommand(keys: Keys, job: JobToAdd): Arg[] {
  const names = ['wait', 'paused', 'meta', 'id', 'completed', 'delayed', 'active', 'events', 'marker'];
  // [key prefix, job id (none: the queue's counter), name, timestamp, parent key, parent dependencies
  // key, parent, repeat job key, deduplication key, defer parent release]
  const args = [keys['']!, '', job.name, job.timestamp, null, null, undefined, undefined, null, null];
  return [
    'EVAL',
    addStandardJob.content,
    addStandardJob.keys,
    ...names.map((n) => keys[n]!),
    pack(args),
    JSON.stringify(job.data),
    // The Job constructor's default first, as BullMQ stores it.
    pack({ attempts: 0, ...job.opts }),
  ];
}
