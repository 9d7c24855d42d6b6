import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { createIncidentBoardProcessor } from '../../../jobs/incident-board-job';
import { createSlackDouble, type SlackCall, type SlackDouble } from '../../../sandbox/slack';
import { createWebClient, SlackNotifier } from '../../../src/adapters/chat/slack-notifier';
import { newRun, type Run } from '../../../src/domain/run';
import { INCIDENT_BOARD_JOB, NOTIFICATIONS_QUEUE, type IncidentBoardJobData } from '../../../src/queue/names';
import { IncidentBoard } from '../../../src/slack/incident-board';
import { runViews } from '../../../src/slack/views';
import { deletePrefix, testRedis } from '../../helpers/redis';
import { eventually } from '../../helpers/eventually';

const TOKEN = 'xoxb-board';
const REF = 'INC-2024-0042';
const CHANNEL = 'C_INC_2024_0042';

let double: SlackDouble;
let redis: Redis;
let prefix: string;
let queue: Queue<IncidentBoardJobData>;
const workers: Worker[] = [];
const connections: Redis[] = [];
/** What the engine has saved: the board reads it when it renders. */
let saved: Map<string, Run>;

beforeEach(async () => {
  double = await createSlackDouble({ botToken: TOKEN });
  redis = testRedis();
  prefix = `test-${randomUUID()}`;
  queue = new Queue(NOTIFICATIONS_QUEUE, { connection: redis, prefix });
  saved = new Map();
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
  await Promise.all(connections.splice(0).map((c) => c.quit()));
  await queue.obliterate({ force: true });
  await queue.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
  await double.close();
});

/** One replica: its own board, worker and notifier, sharing Redis and the queue with the others. */
function replica() {
  const board = new IncidentBoard({
    redis,
    prefix: `${prefix}:`,
    // The queued client, as wired: a 429 is answered at once and the render job defers itself.
    client: createWebClient({
      token: TOKEN,
      slackApiUrl: double.url,
      logger: pino({ level: 'silent' }),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    }),
    runs: async (ref) => [...saved.values()].filter((r) => r.incident?.ref === ref),
    enqueue: async (ref, delayMs) => {
      await queue.add(INCIDENT_BOARD_JOB, { ref }, { delay: delayMs, removeOnComplete: true });
    },
  });
  const connection = testRedis();
  connections.push(connection);
  workers.push(
    new Worker(NOTIFICATIONS_QUEUE, createIncidentBoardProcessor(board), {
      connection,
      prefix,
      concurrency: 4,
    }),
  );
  const notifier = new SlackNotifier({
    client: createWebClient({ token: TOKEN, slackApiUrl: double.url }),
    views: runViews,
    summaries: { post: async () => undefined }, // summaries are not this test's
    incidentProgress: (run) => board.touch(run.incident!.ref),
  });
  return { board, notifier };
}

function emergencyRun(credential: string): Run {
  return newRun({
    id: `run-${credential}`,
    credential,
    requester: { kind: 'slack', id: 'U_RESP' },
    procedure: 'emergency',
    incident: { ref: REF, channel: CHANNEL },
    now: new Date(),
  });
}

/** The engine's step transition: the current step done, the next one running; saved, then reported. */
function advance(run: Run): Run {
  const i = run.steps.findIndex((s) => s.status !== 'done');
  const at = new Date().toISOString();
  const steps = run.steps.map((s, j) =>
    j === i ? { ...s, status: 'done' as const } : j === i + 1 ? { ...s, status: 'running' as const } : s,
  );
  const next: Run = {
    ...run,
    steps,
    updatedAt: at,
    ...(i === run.steps.length - 1 ? { status: 'finished' as const, outcome: 'succeeded' as const } : {}),
  };
  if (run.steps[i]?.name === 'revoke-compromised') next.facts = { ...next.facts, revokedAt: at };
  saved.set(run.id, next);
  return next;
}

const edits = () =>
  double
    .calls()
    .filter((c) => (c.method === 'chat.postMessage' || c.method === 'chat.update') && c.status === 200);

/**
 * The pacing holds when n calls span at least (n - 1) intervals. Judged on the span, not on each
 * gap: a call that reaches the double late (a loaded event loop) shortens one gap and lengthens
 * the one before it, but cannot shorten the span by more than that one delay.
 */
function expectPaced(calls: SlackCall[], intervalMs: number): void {
  const at = calls.map((c) => Date.parse(c.at));
  if (at.length < 2) return;
  expect(at[at.length - 1]! - at[0]!).toBeGreaterThanOrEqual((at.length - 1) * intervalMs - 500);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the incident message', () => {
  it('is one message edited in place, one row per run, at most one edit per 2 s for a burst of 20 reports', async () => {
    const { notifier } = replica();
    const runs = ['payment-gateway-api', 'crm-integration', 'monitoring-service'].map(emergencyRun);
    const t0 = Date.now();
    let slowest = 0;
    for (let i = 0; i < 20; i++) {
      const k = i % 3;
      runs[k] = advance(runs[k]!);
      const started = Date.now();
      expect(await notifier.progress(runs[k]!)).toEqual({}); // no thread message for incident runs
      slowest = Math.max(slowest, Date.now() - started);
      await sleep(150);
    }
    const burstMs = Date.now() - t0;
    // The last report's state reaches the message.
    await eventually(() => {
      const blocks = JSON.stringify(double.messages(CHANNEL)[0]?.blocks ?? []);
      return (
        blocks.includes('*monitoring-service* — ⏳ Write the incident record') &&
        blocks.includes('*payment-gateway-api* — ⏳ Notify stakeholders')
      );
    }, 8_000);
    await sleep(2_500);

    // Renders are 2 s apart: a reporter held by pacing would take that long; one that is not takes
    // milliseconds (a wide margin, so a loaded machine does not fail it).
    expect(slowest).toBeLessThan(1_500);
    const messages = double.messages(CHANNEL);
    expect(messages).toHaveLength(1);
    const text = JSON.stringify(messages[0]!.blocks);
    for (const r of runs) expect(text).toContain(`*${r.credential}* —`);
    expect(text).toContain('INC-2024-0042 — emergency rotation');

    const calls = edits();
    expect(calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(1);
    const updates = calls.filter((c) => c.method === 'chat.update');
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeLessThanOrEqual(Math.ceil(burstMs / 2_000) + 1);
    expectPaced(calls, 2_000);
  }, 30_000);

  it('keeps the pace when several replicas report and render the same incident', async () => {
    const replicas = [replica(), replica(), replica()];
    let run = emergencyRun('payment-gateway-api');
    const t0 = Date.now();
    for (let i = 0; i < 8; i++) {
      run = advance(run);
      // Every replica reports at once, as when runs of one incident sit on different workers.
      await Promise.all(replicas.map((r) => r.notifier.progress(run)));
      await sleep(300);
    }
    const burstMs = Date.now() - t0;
    await eventually(
      () => JSON.stringify(double.messages(CHANNEL)[0]?.blocks ?? []).includes('✓ done'),
      8_000,
    );
    await sleep(2_500);
    expect(double.messages(CHANNEL)).toHaveLength(1);
    const calls = edits();
    expect(calls.length).toBeLessThanOrEqual(Math.ceil(burstMs / 2_000) + 2);
    expectPaced(calls, 2_000);
  }, 30_000);

  it('defers its render through a 429 instead of waiting it out, and still posts one message', async () => {
    const { board, notifier } = replica();
    double.rateLimit('chat.postMessage', 1, 1);
    const run = advance(emergencyRun('payment-gateway-api'));
    await notifier.progress(run);
    await eventually(() => edits().length === 1, 10_000);
    expect(double.calls().filter((c) => c.method === 'chat.postMessage' && c.status === 429)).toHaveLength(1);
    expect(double.messages(CHANNEL)).toHaveLength(1);
    // The double counts the post before its answer reaches the board, which records it after.
    expect(await eventually(() => board.message(REF), 5_000)).toMatchObject({ channel: CHANNEL });
    expect(await redis.ttl(`${prefix}:incident-board:${REF}`)).toBeGreaterThan(0);
  });

  it('posts again when someone deleted it', async () => {
    const { board } = replica();
    saved.set('run-x', emergencyRun('payment-gateway-api'));
    await expect(board.render(REF)).resolves.toBe('rendered');
    const first = await board.message(REF);
    await redis.del(`${prefix}:incident-board:${REF}:pace`);
    double.faults.add({
      method: 'POST',
      path: '/api/chat.update',
      status: 200,
      body: { ok: false, error: 'message_not_found' },
      times: 1,
    });
    await expect(board.render(REF)).resolves.toBe('rendered');
    const second = await board.message(REF);
    expect(second?.ts).not.toBe(first?.ts);
    expect(double.messages(CHANNEL)).toHaveLength(2);
  });
});
