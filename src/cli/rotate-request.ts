/**
 * The break-glass CLI's request, once its arguments are known to be sane: asks a worker through the
 * `requests` queue to plan or start the rotation, on one Redis connection of its own client (resp.ts)
 * and without BullMQ's classes (bullmq-add.ts). The run's creation waits on this, so it is kept to
 * one round trip after connecting. Following the run (rotate-follow.ts) is loaded once it exists,
 * withdrawing an unanswered request (rotate-withdraw.ts) only then.
 */
import { join } from 'node:path';
import { userInfo } from 'node:os';
import type { Plan } from '../domain/plan';
import { describeAge } from '../domain/policy';
import { REQUESTS_QUEUE, type RequestJobData, type RequestResult } from '../queue/names';
import { addJobCommand, queueKeys } from './bullmq-add';
import { RespConnection, redisTarget, type RedisTarget, type Reply } from './resp';

export interface CliOptions {
  redisUrl: string;
  prefix: string;
  /** How long to wait for a worker to take the request (default 30 s). */
  waitMs?: number;
  /**
   * Called with the exit code once the outcome is printed. The process's own main exits there:
   * closing the follow's connections cleanly took up to 20 ms more, for nothing a process about to
   * end needs. Without it (in-process callers), everything is closed before returning.
   */
  exit?: (code: number) => void;
}

/** Set by `npm run build:cli`: there the follow and the withdrawal are bundles of their own beside this one. */
declare const CLI_BUNDLE: true | undefined;

/** ioredis and RunStore, compiled from a V8 code cache when bundled. */
async function loadFollow(): Promise<typeof import('./rotate-follow')> {
  if (typeof CLI_BUNDLE === 'undefined') return import('./rotate-follow');
  const { requireWithCodeCache } = await import('../code-cache');
  return requireWithCodeCache(join(__dirname, 'rotate-follow.js')) as typeof import('./rotate-follow');
}

/** BullMQ's Queue and ioredis, the same way. */
async function loadWithdraw(): Promise<typeof import('./rotate-withdraw')> {
  if (typeof CLI_BUNDLE === 'undefined') return import('./rotate-withdraw');
  const { requireWithCodeCache } = await import('../code-cache');
  return requireWithCodeCache(join(__dirname, 'rotate-withdraw.js')) as typeof import('./rotate-withdraw');
}

function printPlan(plan: Plan): void {
  console.log(`Plan for ${plan.credential} (${plan.type}, ${plan.risk} risk, issuer ${plan.issuer})`);
  console.log(`  age: ${describeAge(plan.age)}`);
  for (const c of plan.consumers) {
    const found = c.foundInCluster === false ? ' — NOT FOUND in cluster' : '';
    console.log(`  consumer ${c.name}: ${c.action}${c.where ? ` (${c.where})` : ''}${found}`);
  }
  for (const u of plan.undeclared) console.log(`  undeclared consumer in cluster: ${u}`);
  for (const d of plan.drift) console.log(`  drift: ${d}`);
  if (plan.channelProblem) console.log(`  summary channel: ${plan.channelProblem}`);
  for (const n of plan.notices) console.log(`  notice: ${n}`);
  plan.steps.forEach((s, i) => console.log(`  ${i + 1}. ${s.title}: ${s.touches.join('; ')}`));
}

/** Where Redis is, for messages: never the URL itself, which may hold a password. */
const where = (t: RedisTarget) =>
  `${t.tls ? 'rediss' : 'redis'}://${t.host}:${t.port}${t.db ? `/${t.db}` : ''}`;

type Answer = { completed: RequestResult } | { failed: string };

/** The pairs of a stream entry as an object. */
function fieldsOf(pairs: Reply): Record<string, string> {
  const out: Record<string, string> = {};
  const list = Array.isArray(pairs) ? pairs : [];
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = String(list[i + 1]);
  return out;
}

/**
 * The worker's answer to job `jobId`, from the queue's events stream after `since` (the newest
 * entry before the request was added, so an answer that comes before the first read is not lost).
 * A dropped connection is opened again; undefined once `deadline` has passed.
 */
async function answerOf(
  target: RedisTarget,
  conn: RespConnection,
  events: string,
  since: string,
  jobId: string,
  deadline: number,
): Promise<{ answer: Answer | undefined; conn: RespConnection }> {
  let last = since;
  for (let left = deadline - Date.now(); left > 0; left = deadline - Date.now()) {
    let reply: Reply;
    try {
      reply = await conn.command(
        ['XREAD', 'COUNT', 100, 'BLOCK', left, 'STREAMS', events, last],
        left + 3_000,
      );
    } catch {
      await new Promise((r) => setTimeout(r, Math.min(300, Math.max(0, deadline - Date.now()))));
      conn.close();
      conn = RespConnection.open(target);
      continue;
    }
    const entries = Array.isArray(reply) && Array.isArray(reply[0]) ? reply[0][1] : [];
    for (const entry of Array.isArray(entries) ? entries : []) {
      if (!Array.isArray(entry)) continue;
      last = String(entry[0]);
      const e = fieldsOf(entry[1] ?? null);
      if (e.jobId !== jobId) continue;
      if (e.event === 'completed') return { answer: { completed: JSON.parse(e.returnvalue!) }, conn };
      if (e.event === 'failed') return { answer: { failed: e.failedReason ?? 'the request failed' }, conn };
    }
  }
  return { answer: undefined, conn };
}

/** Sends the request for a checked credential name; returns the exit code. */
export async function requestRotation(name: string, dryRun: boolean, opts: CliOptions): Promise<number> {
  const { redisUrl: url, prefix } = opts;
  const waitMs = opts.waitMs ?? 30_000;
  let target: RedisTarget;
  try {
    target = redisTarget(url);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  let conn = RespConnection.open(target);
  try {
    const keys = queueKeys(prefix, REQUESTS_QUEUE);
    const user = userInfo().username;
    const now = Date.now();
    const data: RequestJobData = {
      kind: dryRun ? 'plan' : 'rotate',
      credential: name,
      user,
      deadline: now + waitMs,
    };
    // The answer is read from the events stream after its newest entry before the request: read in
    // the same round trip as the request is added, and answered first.
    const newest = conn.command(['XREVRANGE', keys.events!, '+', '-', 'COUNT', 1]);
    const added = conn.command(
      addJobCommand(keys, {
        name: data.kind,
        data,
        opts: { removeOnComplete: { age: 3600 }, removeOnFail: { age: 86_400 } },
        timestamp: now,
      }),
    );
    let since: string;
    let jobId: string;
    try {
      const [last, id] = await Promise.all([newest, added]);
      since = Array.isArray(last) && Array.isArray(last[0]) ? String(last[0][0]) : '0-0';
      if (typeof id !== 'string') throw new Error(`Redis answered ${String(id)} for the request`);
      jobId = id;
    } catch (e) {
      // Nothing is added when the connection fails; an error of the script itself says why.
      const msg = (e as Error).message;
      console.error(`Redis at ${where(target)} does not answer (${msg}): nothing was started`);
      return 3;
    }
    const waited = await answerOf(target, conn, keys.events!, since, jobId, data.deadline);
    conn = waited.conn;
    let result: RequestResult | undefined;
    if (waited.answer && 'failed' in waited.answer) {
      console.error(waited.answer.failed.replace(/^[a-z_]+: /, ''));
      return 2;
    }
    result = waited.answer?.completed;
    if (!result) {
      conn.close();
      result = await (await loadWithdraw()).withdrawRequest(url, prefix, jobId);
      if (!result) {
        console.error(
          `no worker answered within ${Math.round(waitMs / 1000)}s: nothing was started. Is a worker running on ${where(target)} with QUEUE_PREFIX=${prefix}?`,
        );
        return 3;
      }
    }
    if (result.kind === 'plan') {
      printPlan(result.plan);
      return 0;
    }
    console.log(`Rotation of ${name} started as run ${result.runId} (audit identity cli:${user})`);
    conn.close();
    const run = await (await loadFollow()).followRun(url, prefix, result.runId);
    console.log(`Outcome: ${run.outcome}${run.failure ? ` — ${run.failure.message}` : ''}`);
    const code = run.outcome === 'succeeded' ? 0 : 1;
    opts.exit?.(code);
    return code;
  } finally {
    conn.close();
  }
}
