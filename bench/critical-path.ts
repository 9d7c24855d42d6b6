/**
 * Claim: one rotation takes at most 1.05 times its critical path, the sum of the waits it cannot
 * avoid, whether it is started from the break-glass CLI or approved in Slack.
 *
 * crm-integration (one consumer that reads its key at startup) waits, in order, for: the
 * ExternalSecret to sync (the Kubernetes double's 20 ms), its rollout (ROLLOUT_MS), the old key's
 * quiet window (QUIET_MS) and the provider to stop accepting the revoked key (PROPAGATION_MS). Their
 * sum is the baseline. Timed:
 * - CLI: the compiled CLI (`node dist/cli/rotate.js crm-integration`, what `npm run rotate` runs),
 *   from spawn to exit, which is once it printed the outcome (see cliEnv for its environment);
 * - Slack: from the signed Approve click to the summary posted in the credential's channel (the
 *   Slack double's record of the chat.postMessage).
 * The worker runs in the harness with the engine's poll interval the tests use (POLL_INTERVAL_MS).
 * Needs the CLI bundle (`npm run build:cli`).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { Run } from '../src/domain/run';
import { APPROVE_ACTION } from '../src/slack/views';
import { eventually } from '../test/helpers/eventually';
import { startHarness, type Harness } from '../test/helpers/harness';
import { REDIS_URL } from '../test/helpers/redis';
import { postSigned, slashCommandBody } from '../test/helpers/slack-signing';
import type { Bench } from './bench';
import { breakdown } from './concurrent';

const ROOT = join(__dirname, '..');
const COMPILED = join(ROOT, 'dist/cli/rotate.js');
const NAME = 'crm-integration';
const CHANNEL = 'C_SALES'; // the credential's channel: where its summary goes
const ASKED_IN = 'C_PLATFORM';
const SYNC_MS = 20; // the Kubernetes double's ExternalSecret refresh
const ROLLOUT_MS = 2_000;
const QUIET_MS = 1_000;
const PROPAGATION_MS = 1_000;
const POLL_INTERVAL_MS = 100;
const CRITICAL_PATH_MS = SYNC_MS + ROLLOUT_MS + QUIET_MS + PROPAGATION_MS;

/** Where the time went around the run: its start and end against the timed interval. */
async function explain(h: Harness, what: string, t0: number, t1: number, runId: string) {
  if (!process.env.BENCH_BREAKDOWN) return;
  const run = (await h.services.runs.get(runId))!;
  console.error(
    `${what}: to run created ${Date.parse(run.createdAt) - t0} ms, run ${Date.parse(run.updatedAt) - Date.parse(run.createdAt)} ms, after it ${t1 - Date.parse(run.updatedAt)} ms; ${breakdown([run])}; ${waits(run)}`,
  );
}

/**
 * Each wait as it went against what it could have taken, from the run record: the sync (from the
 * force-sync's time to the look that found it), the rollout (restart to done), the quiet window
 * (deployed to revoked, the reads and the revocation included) and the propagation (revoked to the
 * look that found the key rejected).
 */
function waits(run: Run): string {
  const f = run.facts;
  const d = f.deploys?.forward;
  const revoke = run.steps.find((s) => s.name === 'revoke-old');
  const ms = (from?: string, to?: string) => (from && to ? Date.parse(to) - Date.parse(from) : NaN);
  return [
    `sync ${ms(d?.syncRequestedAt, d?.syncedAt)}/${SYNC_MS}`,
    `rollout ${ms(d?.restartRequestedAt, d?.doneAt)}/${ROLLOUT_MS}`,
    `quiet ${ms(f.deployedAt, f.revokedAt)}/${QUIET_MS}`,
    `propagation ${ms(f.revokedAt, revoke?.endedAt)}/${PROPAGATION_MS}`,
  ].join(', ');
}

/** The CLI from spawn to exit; it must exit 0 (the rotation succeeded). */
async function viaCli(h: Harness): Promise<number> {
  const t0 = Date.now();
  const ms = await cliExit(h);
  const run = (await h.services.service.history(NAME))[0]!;
  await explain(h, 'cli', t0, t0 + ms, run.id);
  return ms;
}

/**
 * The bench's environment for the CLI, less NODE_EXTRA_CA_CERTS unless Redis is reached over TLS:
 * Node parses that bundle at start, before any of the CLI's code runs (on the machine these benches
 * were written on, a proxy's 200 KB bundle: 100 ms of every Node start), and the CLI never makes a
 * TLS connection to a redis:// URL. BENCH_KEEP_CA=1 keeps it, to see what it costs.
 */
function cliEnv(h: Harness): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL, QUEUE_PREFIX: h.prefix };
  if (!REDIS_URL.startsWith('rediss:') && !process.env.BENCH_KEEP_CA) delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

function cliExit(h: Harness): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('node', [COMPILED, NAME], {
      cwd: ROOT,
      env: cliEnv(h),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`CLI exited ${code}: ${out}`)),
    );
  });
}

type Blocks = Array<{ elements?: Array<{ action_id: string; value: string }> }>;

/** /rotate in Slack, then the Approve click; the time from the click to the summary's post. */
async function viaSlack(h: Harness): Promise<number> {
  const posts = () => h.world.slack.calls().filter((c) => c.method === 'chat.postMessage');
  const before = posts().length;
  const res = await postSigned(
    h.slackEndpoint,
    h.env.SLACK_SIGNING_SECRET!,
    slashCommandBody({
      text: NAME,
      user: 'U0ALICE',
      channel: ASKED_IN,
      responseUrl: h.world.slack.responseUrl(`cmd-${Date.now()}`),
    }),
  );
  if (res.status !== 200) throw new Error(`/rotate answered ${res.status}`);
  const plan = await eventually(() =>
    posts()
      .slice(before)
      .find(
        (c) => c.args.channel === ASKED_IN && JSON.stringify(c.args.blocks ?? []).includes(APPROVE_ACTION),
      ),
  );
  const id = (plan.args.blocks as Blocks)
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === APPROVE_ACTION)!.value;
  const ts = await eventually(async () => (await h.slack.approvals.get(id))?.messageTs);
  const clicked = Date.now();
  const answer = await h.click(APPROVE_ACTION, id, 'U0BOB', ASKED_IN, ts);
  if (answer.status !== 200) throw new Error(`the approval click answered ${answer.status}`);
  // The only run with an approver: the warm-up and the CLI's have none.
  const run = await eventually(
    async () => (await h.services.service.history(NAME)).find((r) => r.approver?.id === 'U0BOB'),
    10_000,
  );
  const summary = await eventually(
    () =>
      posts()
        .slice(before)
        .find((c) => c.args.channel === CHANNEL && JSON.stringify(c.args).includes(run.id)),
    { timeoutMs: 60_000, intervalMs: 5 },
  );
  const finished = await h.waitForRun(run.id);
  if (finished.outcome !== 'succeeded') throw new Error(`the Slack run ended ${finished.outcome}`);
  await explain(h, 'slack', clicked, Date.parse(summary.at), run.id);
  return Date.parse(summary.at) - clicked;
}

export const criticalPathBench: Bench = {
  name: 'critical-path',
  claim: 'one rotation (CLI and Slack, the worse of the two), vs its critical path (the sum of its waits)',
  target: 1.05,
  async run() {
    if (!existsSync(COMPILED)) throw new Error(`${COMPILED} is missing: run npm run build:cli first`);
    const h = await startHarness({
      rolloutDelayMs: ROLLOUT_MS,
      settings: { quietWindowMs: QUIET_MS, pollIntervalMs: POLL_INTERVAL_MS, propagationMs: 60_000 },
      extraEnv: { LOG_LEVEL: 'warn', POLL_INTERVAL_MS: String(POLL_INTERVAL_MS) },
    });
    h.world.provider.revocationDelayMs = PROPAGATION_MS;
    try {
      // Warm-up: the worker loads its lazily imported modules and opens its connections.
      const warm = await h.services.service.start({
        credential: NAME,
        requester: { kind: 'cli', id: 'bench' },
      });
      await h.waitForRun(warm.id, undefined, 60_000);
      const cli = await viaCli(h);
      const slack = await viaSlack(h);
      return {
        ratio: Math.max(cli, slack) / CRITICAL_PATH_MS,
        cliRatio: Number((cli / CRITICAL_PATH_MS).toFixed(3)),
        slackRatio: Number((slack / CRITICAL_PATH_MS).toFixed(3)),
        criticalPathMs: CRITICAL_PATH_MS,
        cliMs: Math.round(cli),
        slackMs: Math.round(slack),
        load1: Number(loadavg()[0]!.toFixed(2)),
      };
    } finally {
      await h.close();
    }
  },
};
