/**
 * ack-burst: fifty `/rotate <name>` sent at once to the web role, p50 and p99 ack latency as ratios
 * to a bare Bolt 5 app whose /rotate handler only acks, measured in the same run. The ratio is the
 * larger of the two, target ≤ 1.5 (both must meet it). The web role runs as deployed (startRole
 * 'web', its configuration and log level from the environment), without a worker in its process:
 * it acks and queues, and the commands wait in the queue, unanswered. Both sides get one burst of
 * warm-up first, so the ratio is the steady state (bench/cold-start.ts measures a fresh process).
 */
import { App, HTTPReceiver } from '@slack/bolt';
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorld } from '../sandbox/world';
import { createLogger } from '../src/logger';
import { loadRoleConfig, startRole } from '../src/main';
import { SLACK_REQUESTS_QUEUE } from '../src/slack/slack-requests';
import { eventually } from '../test/helpers/eventually';
import { deletePrefix, REDIS_URL, testRedis } from '../test/helpers/redis';
import { postSigned, slashCommandBody } from '../test/helpers/slack-signing';
import type { Bench } from './bench';

const BURST = 50;
const SECRET = 'bench-signing-secret';

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** Fifty signed /rotate commands at once; each one's time to its HTTP answer (the ack). */
export async function burst(
  endpoint: string,
  secret: string,
  responseUrl: (i: number) => string,
): Promise<number[]> {
  return Promise.all(
    Array.from({ length: BURST }, async (_, i) => {
      const t0 = performance.now();
      const res = await postSigned(
        endpoint,
        secret,
        slashCommandBody({
          text: 'payment-gateway-api',
          user: 'U0ALICE',
          channel: 'C_PAYMENTS',
          responseUrl: responseUrl(i),
        }),
      );
      if (res.status !== 200)
        throw new Error(`${endpoint} answered ${res.status}: ${res.body.slice(0, 200)}`);
      return performance.now() - t0;
    }),
  );
}

/** The baseline: Bolt 5's HTTP receiver with a /rotate handler that only acks. */
async function bareBolt(
  slackApiUrl: string,
  token: string,
): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const receiver = new HTTPReceiver({ signingSecret: SECRET, processBeforeResponse: false });
  // Its Web API is the Slack double the bot uses too; its identity is given, so no request waits on
  // an auth.test (the least a Bolt app can do per request).
  const app = new App({
    receiver,
    clientOptions: { slackApiUrl },
    authorize: async () => ({ botToken: token, botId: 'B_BARE', botUserId: 'U_BARE' }),
  });
  app.command('/rotate', async ({ ack }) => {
    await ack();
  });
  const server = (await app.start(0)) as unknown as { address(): AddressInfo };
  return {
    endpoint: `http://127.0.0.1:${server.address().port}/slack/events`,
    stop: () => app.stop().then(() => undefined),
  };
}

/** The web role as `node dist/main.js web` starts it (startRole), in this process, against the doubles. */
async function webRole() {
  const prefix = `bench-${randomUUID()}`;
  const dir = mkdtempSync(join(tmpdir(), 'rotator-bench-'));
  const world = await startWorld({ dir, redisUrl: REDIS_URL, queuePrefix: prefix });
  const env: Record<string, string> = { ...world.env, PORT: '0', LOG_LEVEL: 'warn' };
  const config = loadRoleConfig('web', env);
  const running = await startRole('web', config, createLogger(config.env.LOG_LEVEL));
  const redis = testRedis();
  const queue = new Queue(SLACK_REQUESTS_QUEUE, { connection: redis, prefix });
  return {
    world,
    env,
    endpoint: `http://127.0.0.1:${running.slack!.port()}/slack/events`,
    /**
     * Until `n` commands wait in the queue: an ack comes before its enqueue, so a burst is over only
     * when every command is queued (and a close before that would fail the enqueues).
     */
    queued: async (n: number) => {
      await eventually(async () => (await queue.getWaitingCount()) >= n, 30_000);
    },
    close: async () => {
      await queue.close();
      await running.stop();
      await deletePrefix(redis, prefix);
      redis.disconnect();
      await world.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const ackBurstBench: Bench = {
  name: 'ack-burst',
  claim: `p50 and p99 ack of ${BURST} concurrent /rotate (the larger ratio), vs a bare Bolt 5 app that only acks`,
  target: 1.5,
  async run() {
    const web = await webRole();
    const bare = await bareBolt(web.world.slack.url, web.env.SLACK_BOT_TOKEN!);
    try {
      // JIT warm-up of both sides.
      await burst(bare.endpoint, SECRET, (i) => `http://127.0.0.1:1/warm-${i}`);
      await burst(web.endpoint, web.env.SLACK_SIGNING_SECRET!, (i) =>
        web.world.slack.responseUrl(`warm-${i}`),
      );
      await web.queued(BURST);
      const base = await burst(bare.endpoint, SECRET, (i) => `http://127.0.0.1:1/r-${i}`);
      const ours = await burst(web.endpoint, web.env.SLACK_SIGNING_SECRET!, (i) =>
        web.world.slack.responseUrl(`bench-${i}`),
      );
      await web.queued(2 * BURST);
      const p50 = quantile(ours, 0.5) / quantile(base, 0.5);
      const p99 = quantile(ours, 0.99) / quantile(base, 0.99);
      return {
        ratio: Math.max(p50, p99),
        p50Ratio: Number(p50.toFixed(2)),
        p99Ratio: Number(p99.toFixed(2)),
        oursP50Ms: Math.round(quantile(ours, 0.5)),
        oursP99Ms: Math.round(quantile(ours, 0.99)),
        bareP50Ms: Math.round(quantile(base, 0.5)),
        bareP99Ms: Math.round(quantile(base, 0.99)),
      };
    } finally {
      await web.close();
      await bare.stop();
    }
  },
};
