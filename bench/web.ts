/**
 * Issue 10's claims about the web role and one rotation's cost.
 * - ack-burst: fifty `/rotate <name>` sent at once to the web role, p99 ack latency as a ratio to a
 *   bare Bolt 5 app whose /rotate handler only acks, measured in the same run (p50 reported too).
 *   Target ≤ 1.5.
 * - calls: external calls one scheduled rotation makes (Vault, Kubernetes, the provider, Slack),
 *   as a ratio to the issue's budget of 20. Target ≤ 1.
 * - concurrent: 100 rotations at once through one worker process, wall time as a ratio to one
 *   rotation's. Target ≤ 1.2.
 */
import { App, HTTPReceiver } from '@slack/bolt';
import type { AddressInfo } from 'node:net';
import type { CatalogCredential } from '../sandbox/world';
import { startHarness, type Harness } from '../test/helpers/harness';
import { postSigned, slashCommandBody } from '../test/helpers/slack-signing';
import type { Bench } from './bench';

const BURST = 50;
const SECRET = 'bench-signing-secret';

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

/** Fifty signed /rotate commands at once; each one's time to its HTTP answer (the ack). */
async function burst(
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

export const ackBurstBench: Bench = {
  name: 'ack-burst',
  claim: `p99 ack of ${BURST} concurrent /rotate, vs a bare Bolt 5 app that only acks`,
  target: 1.5,
  async run() {
    const h = await startHarness({ worker: false, extraEnv: { LOG_LEVEL: 'warn' } });
    const bare = await bareBolt(h.world.slack.url, h.env.SLACK_BOT_TOKEN!);
    try {
      await burst(bare.endpoint, SECRET, (i) => `http://127.0.0.1:1/warm-${i}`); // JIT warm-up
      const base = await burst(bare.endpoint, SECRET, (i) => `http://127.0.0.1:1/r-${i}`);
      const ours = await burst(h.slackEndpoint, h.env.SLACK_SIGNING_SECRET!, (i) =>
        h.world.slack.responseUrl(`bench-${i}`),
      );
      const p50 = quantile(ours, 0.5) / quantile(base, 0.5);
      return {
        ratio: quantile(ours, 0.99) / quantile(base, 0.99),
        p50Ratio: Number(p50.toFixed(2)),
        oursP50Ms: Math.round(quantile(ours, 0.5)),
        oursP99Ms: Math.round(quantile(ours, 0.99)),
        bareP50Ms: Math.round(quantile(base, 0.5)),
        bareP99Ms: Math.round(quantile(base, 0.99)),
      };
    } finally {
      await h.close();
      await bare.stop();
    }
  },
};

async function rotateAll(h: Harness, names: string[]): Promise<number> {
  const t0 = performance.now();
  const runs = await Promise.all(
    names.map((credential) =>
      h.services.service.start({ credential, requester: { kind: 'cli', id: 'bench' } }),
    ),
  );
  const done = await Promise.all(runs.map((r) => h.waitForRun(r.id, undefined, 300_000)));
  const failed = done.filter((r) => r.outcome !== 'succeeded');
  if (failed.length > 0) throw new Error(`${failed.length} bench runs did not succeed`);
  return performance.now() - t0;
}

export const callsBench: Bench = {
  name: 'calls',
  claim: 'external calls of one rotation (Vault, Kubernetes, provider, Slack), vs a budget of 20',
  target: 1,
  async run() {
    const h = await startHarness({ rolloutDelayMs: 200, extraEnv: { LOG_LEVEL: 'warn' } });
    try {
      const vault = () =>
        h.world.vault.auditLog.filter((e) => e.type === 'request' && e.auth.display_name === 'token').length;
      const before = {
        vault: vault(),
        kubernetes: h.world.kubernetes.requests().length,
        provider: h.world.provider.managementCalls(),
        slack: h.world.slack.calls().length,
      };
      await rotateAll(h, ['payment-gateway-api']);
      const calls = {
        vault: vault() - before.vault,
        kubernetes: h.world.kubernetes.requests().length - before.kubernetes,
        provider: h.world.provider.managementCalls() - before.provider,
        slack: h.world.slack.calls().length - before.slack,
      };
      const total = calls.vault + calls.kubernetes + calls.provider + calls.slack;
      const patches = h.world.kubernetes.requests().filter((r) => r.method === 'PATCH').length;
      return { ratio: total / 20, total, ...calls, kubernetesPatches: patches };
    } finally {
      await h.close();
    }
  },
};

const COUNT = 100;

/** 100 copies of crm-integration (one restarted consumer each), all on the one worker process. */
function hundred(c: { credentials: CatalogCredential[] }): void {
  const template = c.credentials.find((x) => x.name === 'crm-integration') ?? c.credentials[0]!;
  c.credentials = Array.from({ length: COUNT }, (_, i) => {
    const name = `crm-${String(i).padStart(3, '0')}`;
    return {
      ...template,
      name,
      store: `api-credentials/${name}`,
      kubernetesSecret: name,
      consumers: template.consumers.map((consumer) => ({
        ...consumer,
        ...(consumer.kubernetes
          ? {
              kubernetes: {
                namespace: 'bench',
                deployment: `${name}-${consumer.name}`,
                externalSecret: name,
              },
            }
          : {}),
      })),
    };
  });
}

export const concurrentBench: Bench = {
  name: 'concurrent',
  claim: `${COUNT} rotations at once on one worker process, vs one rotation`,
  target: 1.2,
  async run() {
    const h = await startHarness({
      rolloutDelayMs: 1_000,
      editCatalog: hundred,
      extraEnv: { LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '16' },
    });
    try {
      const names = h.world.catalog.credentials.map((c) => c.name);
      const one = await rotateAll(h, [names[0]!]);
      const all = await rotateAll(h, names.slice(1));
      return { ratio: all / one, oneMs: Math.round(one), allMs: Math.round(all) };
    } finally {
      await h.close();
    }
  },
};
