/**
 * Claim: a run save writes only what changed. One rotation of payment-gateway-api (three consumers)
 * with Redis MONITOR watching: the bytes the run store sends for the run record (keys
 * `<prefix>:run:*`, `:runs:*`, `:lock:*`, reads left out), as a ratio to what rewriting the whole
 * record at every save would send (saves × the final record's size). Also reports the commands.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startHarness } from '../test/helpers/harness';
import { REDIS_URL } from '../test/helpers/redis';
import type { Bench } from './bench';

const READS = new Set(['get', 'hgetall', 'zrange', 'zrevrange', 'pttl', 'ttl', 'exists', 'type', 'scan']);

export interface StoreTraffic {
  commands: number;
  bytes: number;
  byCommand: Record<string, number>;
  /** Commands that write the run record itself (`<prefix>:run:<id>`). */
  recordWrites: number;
}

/** Counts, from MONITOR lines, the writes clients send to the run store's keys under `prefix`. */
export function storeTraffic(lines: Array<{ args: string[]; source: string }>, prefix: string): StoreTraffic {
  const ours = [`${prefix}:run:`, `${prefix}:runs:`, `${prefix}:lock:`];
  const traffic: StoreTraffic = { commands: 0, bytes: 0, byCommand: {}, recordWrites: 0 };
  for (const { args, source } of lines) {
    const name = (args[0] ?? '').toLowerCase();
    if (source === 'lua' || READS.has(name)) continue;
    if (!args.some((a) => ours.some((o) => a.startsWith(o)))) continue;
    traffic.commands += 1;
    traffic.bytes += args.reduce((n, a) => n + Buffer.byteLength(a), 0);
    traffic.byCommand[name] = (traffic.byCommand[name] ?? 0) + 1;
    if (args.some((a) => a.startsWith(`${prefix}:run:`))) traffic.recordWrites += 1;
  }
  return traffic;
}

/** `1795777841.477690 [0 127.0.0.1:5432] "SET" "k" "v"` → args (unescaped enough to measure) and source. */
function monitorLine(line: string): { args: string[]; source: string } | undefined {
  const m = /^[\d.]+ \[\d+ ([^\]]+)\] (.*)$/.exec(line);
  if (!m) return undefined;
  const args = [...m[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((a) =>
    a[1]!.replace(/\\x[0-9a-f]{2}|\\./g, 'x'),
  );
  return { args, source: m[1]! };
}

export const runSavesBench: Bench = {
  name: 'run-saves',
  claim: 'run store bytes written per rotation, vs rewriting the whole record at every save',
  target: 0.35,
  async run() {
    const h = await startHarness({ settings: { quietWindowMs: 0 }, extraEnv: { LOG_LEVEL: 'warn' } });
    const lines: Array<{ args: string[]; source: string }> = [];
    const monitor = spawn('redis-cli', ['-u', REDIS_URL, 'monitor'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    createInterface({ input: monitor.stdout }).on('line', (line) => {
      const parsed = monitorLine(line);
      if (parsed) lines.push(parsed);
    });
    await new Promise((r) => setTimeout(r, 300)); // MONITOR is on
    try {
      const run = await h.services.service.start({
        credential: 'payment-gateway-api',
        requester: { kind: 'cli', id: 'bench' },
      });
      const done = await h.waitForRun(run.id, undefined, 60_000);
      if (done.outcome !== 'succeeded') throw new Error(`bench run ended ${done.outcome}`);
      await new Promise((r) => setTimeout(r, 200)); // the last MONITOR lines
      const t = storeTraffic(lines, h.prefix);
      const whole = t.recordWrites * Buffer.byteLength(JSON.stringify(done));
      return {
        ratio: t.bytes / whole,
        commands: t.commands,
        bytes: t.bytes,
        recordWrites: t.recordWrites,
        wholeRecordBytes: whole,
        byCommand: JSON.stringify(t.byCommand),
      };
    } finally {
      monitor.kill();
      await h.close();
    }
  },
};
