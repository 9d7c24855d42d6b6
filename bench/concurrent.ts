/**
 * Claim: 100 rotations at once on one worker process take at most 1.2 times as long as one.
 *
 * The worker is a process of its own, as deployed (`node dist/main.js worker` in the environment of
 * src/process-tuning.ts; needs `npm run build`), so the doubles and this process's harness (the web
 * role that enqueues, the run reads that wait for the outcome) do not run on its thread. Each
 * credential is a copy of crm-integration (one restarted consumer, two replicas rolled out over
 * ROLLOUT_MS). After a warm-up rotation, one rotation is timed, then 100 started together; the CPU
 * time of the worker, of this process (the doubles) and of a local Redis over each is reported
 * beside the wall times.
 *
 * They all share this machine's cores, so the CPU they spend bounds the ratio from below:
 * - `cpuFloorRatio`: the hundred cannot take less wall time than their total CPU spread over every
 *   core, against one rotation's wall time;
 * - `workerFloorRatio`: nor less than the worker's CPU, which runs on one thread.
 * A floor above the target means the claim cannot be met on this machine without spending less CPU
 * (the worker's or the doubles'), whatever the scheduling. The `burst…` figures do the same for the
 * first segments alone (below), where the claim is decided.
 * `BENCH_CPU_PROF=<dir>` writes the worker's CPU profile there (node --cpu-prof);
 * `BENCH_WORKER_ENTRY=dist/src/main.js` runs the unbundled build instead, so a profile names files.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { copyCredential, type CatalogCredential } from '../sandbox/world';
import { startHarness, type Harness } from '../test/helpers/harness';
import type { Run } from '../src/domain/run';
import { median, type Bench } from './bench';
import { deployedEnv } from './web-role';

const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, process.env.BENCH_WORKER_ENTRY ?? 'dist/main.js');
const COUNT = 100;
/**
 * Rollouts of a second: the claim is judged with these, so the worker's CPU counts for as much as it
 * can. `BENCH_ROLLOUT_MS` sets another length, for a look at the same hundred with slower rollouts.
 */
const ROLLOUT_MS = Number(process.env.BENCH_ROLLOUT_MS ?? 1_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
/** The old key's quiet window: with the rollout, the waits of one rotation. */
const QUIET_SECONDS = 1;
/** The waits one rotation cannot avoid: what the hundred may exceed by a fifth. */
export const ONE_ROTATION_WAITS_MS = ROLLOUT_MS + QUIET_SECONDS * 1000;
export const CONCURRENT_COUNT = COUNT;

/**
 * `count` copies of crm-integration (one restarted consumer), named crm-000…, each with its own store
 * path, Secret and deployment in the namespace `bench`.
 */
export function crmCopies(count: number): (c: { credentials: CatalogCredential[] }) => void {
  return (c) => {
    const template = c.credentials.find((x) => x.name === 'crm-integration') ?? c.credentials[0]!;
    c.credentials = Array.from({ length: count }, (_, i) => {
      const name = `crm-${String(i).padStart(3, '0')}`;
      return copyCredential(template, name, (consumer) => ({
        namespace: 'bench',
        deployment: `${name}-${consumer.name}`,
      }));
    });
  };
}

/** The local Redis server's pid, when it runs on this machine (its CPU counts against the same cores). */
function redisPid(): number | undefined {
  const r = spawnSync('pidof', ['redis-server'], { encoding: 'utf8' });
  const pid = Number(r.stdout?.trim().split(/\s+/)[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 10 ms). */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const ownCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** The worker role as its own OS process; resolves once it says it started. */
function startWorker(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; stop: () => Promise<void> }> {
  const prof = process.env.BENCH_CPU_PROF;
  const child = spawn(
    process.execPath,
    [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), MAIN, 'worker'],
    { cwd: ROOT, env: deployedEnv({ ...process.env, ...env }), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM'); // a clean exit, so --cpu-prof writes its profile
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${output.slice(-2000)}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('credential-rotator started')) {
        clearTimeout(timer);
        resolve({ child, stop });
      }
      if (output.length > 1e6) output = output.slice(-1e5);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited (${code}): ${output.slice(-2000)}`));
    });
  });
}

/** Where a set of runs spent their time: per step, median and max over the runs (ms). */
export function breakdown(runs: Run[]): string {
  const at = (iso: string | undefined) => (iso ? Date.parse(iso) : NaN);
  const rows = new Map<string, number[]>();
  const add = (k: string, v: number) => {
    if (Number.isFinite(v)) rows.set(k, [...(rows.get(k) ?? []), v]);
  };
  for (const r of runs) {
    add('queued', at(r.steps[0]?.startedAt) - at(r.createdAt));
    r.steps.forEach((s, i) => {
      add(s.name, at(s.endedAt) - at(s.startedAt));
      const next = r.steps[i + 1];
      if (next) add(`>${next.name}`, at(next.startedAt) - at(s.endedAt));
    });
    add('total', at(r.updatedAt) - at(r.createdAt));
  }
  return [...rows]
    .map(([k, xs]) => `${k} ${Math.round(median(xs))}/${Math.round(Math.max(...xs))}`)
    .join(', ');
}

/**
 * Starts the rotations together and waits for them all; returns the time from the start to the last
 * one's finish (its record's updatedAt). One pipelined read of each unfinished run's status per
 * poll: reading whole records of a hundred runs every 50 ms would take CPU from the doubles.
 */
async function rotateAll(h: Harness, names: string[], firstWaits?: () => void): Promise<number> {
  const t0 = Date.now();
  const runs = await Promise.all(
    names.map((credential) =>
      h.services.service.start({ credential, requester: { kind: 'cli', id: 'bench' } }),
    ),
  );
  let pending = runs.map((r) => r.id);
  // Runs not yet seen waiting: their first segment (up to the rollout's wait) has not ended.
  const starting = new Set(pending);
  const deadline = Date.now() + 300_000;
  while (pending.length > 0) {
    if (Date.now() > deadline) throw new Error(`${pending.length} bench runs did not finish`);
    await new Promise((r) => setTimeout(r, 50));
    const pipeline = h.redis.pipeline();
    for (const id of pending) pipeline.hget(`${h.prefix}:run:${id}`, 'status');
    const statuses = ((await pipeline.exec()) ?? []).map(([, v]) => v);
    if (starting.size > 0) {
      pending.forEach((id, i) => {
        if (statuses[i] !== JSON.stringify('queued') && statuses[i] !== JSON.stringify('running'))
          starting.delete(id);
      });
      if (starting.size === 0) firstWaits?.();
    }
    pending = pending.filter((_, i) => statuses[i] !== JSON.stringify('finished'));
  }
  const done = (await Promise.all(runs.map((r) => h.services.runs.get(r.id)))).filter(
    (r): r is Run => r !== undefined,
  );
  const failed = done.filter((r) => r.outcome !== 'succeeded');
  if (failed.length > 0)
    throw new Error(
      `${failed.length} bench runs did not succeed: ${JSON.stringify(failed[0]!.failure ?? failed[0]!.outcome)}`,
    );
  if (process.env.BENCH_BREAKDOWN) console.error(`${names.length} runs (median/max ms): ${breakdown(done)}`);
  return Math.max(...done.map((r) => Date.parse(r.updatedAt))) - t0;
}

/**
 * TCP connections opened to each double so far. Counted at the doubles, so a service this process
 * also calls (Vault, read by the external-secrets operator) includes those; a keep-alive client
 * opens a handful whatever the number of rotations.
 */
function connections(h: Harness): Record<string, number> {
  const w = h.world;
  const apps = [...w.apps.values()];
  return {
    kubernetes: w.kubernetes.connections(),
    vault: w.vault.connections(),
    provider: w.provider.connections(),
    slack: w.slack.connections(),
    apps: apps.reduce((n, a) => n + a.connections(), 0),
    // Requests, to set the connections against.
    kubernetesReq: w.kubernetes.requests().length,
    vaultReq: w.vault.requestCount(),
    providerReq: w.provider.requestCount(),
    slackReq: w.slack.requestCount(),
    appsReq: apps.reduce((n, a) => n + a.requestCount(), 0),
    // The lists of deployments discovery made (none while the watch holds the namespace).
    kubernetesLists: w.kubernetes
      .requests()
      .filter((r) => r.method === 'GET' && /\/deployments(\?(?!.*watch=)|$)/.test(r.path)).length,
  };
}

/** Wall time of `f`, with the CPU seconds the worker, this process and Redis used meanwhile. */
async function measured(h: Harness, pid: number, f: (firstWaits: () => void) => Promise<number>) {
  const redis = redisPid();
  const redisCpu = () => (redis ? cpuOf(redis) : 0);
  const t0 = Date.now();
  const [w0, b0, r0, c0] = [cpuOf(pid), ownCpu(), redisCpu(), connections(h)];
  let burst = { ms: NaN, workerCpu: NaN, benchCpu: NaN, redisCpu: NaN };
  const ms = await f(() => {
    burst = {
      ms: Date.now() - t0,
      workerCpu: cpuOf(pid) - w0,
      benchCpu: ownCpu() - b0,
      redisCpu: redisCpu() - r0,
    };
  });
  const workerCpu = cpuOf(pid) - w0;
  const benchCpu = ownCpu() - b0;
  const redisCpuS = redisCpu() - r0;
  const opened = Object.entries(connections(h))
    .map(([k, n]) => `${k}=${n - c0[k]!}`)
    .join(' ');
  return { ms, workerCpu, benchCpu, redisCpu: redisCpuS, opened, burst };
}

export const concurrentBench: Bench = {
  name: 'concurrent',
  claim: `${COUNT} rotations at once on one worker process, vs one rotation`,
  target: 1.2,
  async run() {
    const env = {
      LOG_LEVEL: 'info',
      WORKER_CONCURRENCY: String(CONCURRENCY),
      OLD_KEY_QUIET_SECONDS: String(QUIET_SECONDS),
      POLL_INTERVAL_MS: process.env.BENCH_POLL_MS ?? '5000',
      REVOCATION_PROPAGATION_SECONDS: '60',
    };
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
    const h = await startHarness({
      worker: false,
      rolloutDelayMs: ROLLOUT_MS,
      // A warm-up, the one, and the hundred.
      editCatalog: crmCopies(COUNT + 2),
      extraEnv: env,
    });
    let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
    try {
      worker = await startWorker({ ...h.env, LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' });
      const pid = worker.child.pid!;
      const names = h.world.catalog.credentials.map((c) => c.name);
      await rotateAll(h, [names[0]!]); // warm-up: JIT, connections, lazily loaded modules
      const one = await measured(h, pid, () => rotateAll(h, [names[1]!]));
      const all = await measured(h, pid, (firstWaits) => rotateAll(h, names.slice(2), firstWaits));
      return {
        ratio: all.ms / one.ms,
        oneMs: Math.round(one.ms),
        allMs: Math.round(all.ms),
        // CPU seconds per wall second over the hundred: 1.0 is one core saturated.
        workerCpuS: Number(all.workerCpu.toFixed(2)),
        workerCpuShare: Number((all.workerCpu / (all.ms / 1000)).toFixed(2)),
        workerCpuMsPerRotation: Math.round((all.workerCpu * 1000) / COUNT),
        oneWorkerCpuMs: Math.round(one.workerCpu * 1000),
        benchCpuS: Number(all.benchCpu.toFixed(2)),
        redisCpuS: Number(all.redisCpu.toFixed(2)),
        cpuFloorRatio: Number(
          ((all.workerCpu + all.benchCpu + all.redisCpu) / availableParallelism() / (one.ms / 1000)).toFixed(
            2,
          ),
        ),
        workerFloorRatio: Number((all.workerCpu / (one.ms / 1000)).toFixed(2)),
        // The first segments: from the start until every run had reached its first wait (the
        // rollout), seen by a 50 ms poll. The last of them ends no sooner than the worker's CPU
        // meanwhile (one thread), and its run still has nearly one rotation's waits ahead of it:
        // `burstFloorRatio` is about the lowest ratio this worker's CPU allows, whatever the
        // scheduling. It overstates a little: it counts every thread of the process (the
        // collector's too), and with rollouts shorter than the burst the early runs' second
        // segments; with 10 s rollouts it matches the measured ratio.
        burstMs: Math.round(all.burst.ms),
        burstWorkerCpuMsPerRotation: Number(((all.burst.workerCpu * 1000) / COUNT).toFixed(1)),
        burstFloorRatio: Number((1 + all.burst.workerCpu / (one.ms / 1000)).toFixed(2)),
        // The same for the other processes on these cores over the first segments: this one (the
        // doubles answering them, the web role enqueuing, the 50 ms poll) and Redis.
        // `burstBenchFloorRatio`: even a worker that cost nothing waits for this process's CPU,
        // spread over every core at best. `burstMachineFloorRatio`: all three spread so.
        burstBenchCpuMsPerRotation: Number(((all.burst.benchCpu * 1000) / COUNT).toFixed(1)),
        burstRedisCpuMsPerRotation: Number(((all.burst.redisCpu * 1000) / COUNT).toFixed(1)),
        burstBenchFloorRatio: Number(
          (1 + all.burst.benchCpu / availableParallelism() / (one.ms / 1000)).toFixed(2),
        ),
        burstMachineFloorRatio: Number(
          (
            1 +
            (all.burst.workerCpu + all.burst.benchCpu + all.burst.redisCpu) /
              availableParallelism() /
              (one.ms / 1000)
          ).toFixed(2),
        ),
        // New connections per service during the one and during the hundred.
        oneConnections: one.opened,
        allConnections: all.opened,
        // Other processes on the machine take CPU from the worker: its share above says how much.
        load1: Number(loadavg()[0]!.toFixed(2)),
      };
    } finally {
      await worker?.stop();
      await h.close();
    }
  },
};
