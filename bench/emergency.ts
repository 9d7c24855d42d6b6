/**
 * Emergency claims.
 * - click-to-rejected: from startEmergency (what the responder's click calls) to the provider
 *   rejecting the compromised key, as a ratio to the provider's own create + revoke latency measured
 *   in the same run (the two calls that cannot be avoided). Target ≤ 1.10.
 * - issuer-limit: 100 credentials of one issuer with 10 calls in flight: wall time until every
 *   consumer is verified, as a ratio to the bound the limit implies (every management call's
 *   latency, 10 at a time). Target ≤ 1.10.
 */
import { Secret } from '../src/domain/secret';
import { RestApiKeyIssuer } from '../src/adapters/issuers/rest-api-key-issuer';
import { startHarness, type Harness } from '../test/helpers/harness';
import type { CatalogCredential } from '../sandbox/world';
import type { Bench } from './bench';

const INCIDENT = { ref: 'INC-BENCH-1', channel: 'C_INC' };
const responder = { kind: 'slack' as const, id: 'U0ERIN' };

/** The provider's own create + revoke, timed by its own client with nothing of the bot in between. */
async function providerBaseline(h: Harness): Promise<number> {
  const issuer = new RestApiKeyIssuer({
    baseUrl: h.world.provider.url,
    adminToken: new Secret(h.env.PAYMENT_PROVIDER_ADMIN_TOKEN!),
    permissions: ['read'],
  });
  const t0 = performance.now();
  const { keyId } = await issuer.create('bench/baseline');
  await issuer.revoke(keyId);
  return performance.now() - t0;
}

export const clickToRejectedBench: Bench = {
  name: 'emergency-click',
  claim: "responder's click to the compromised key rejected, vs the provider's create + revoke",
  target: 1.1,
  async run() {
    const h = await startHarness({ extraEnv: { LOG_LEVEL: 'warn' } });
    try {
      h.world.provider.managementLatencyMs = 250;
      const baseline = await providerBaseline(h);
      const compromised = h.world.vault.current('api-credentials/payment-gateway-api')!.data
        .api_key as string;
      const t0 = performance.now();
      const { started } = await h.services.service.startEmergency({
        credentials: ['payment-gateway-api'],
        incident: INCIDENT,
        requester: responder,
      });
      while (h.world.provider.accepts(compromised)) await new Promise((r) => setTimeout(r, 2));
      const elapsed = performance.now() - t0;
      await h.waitForRun(started[0]!.id, undefined, 60_000);
      return {
        ratio: elapsed / baseline,
        clickToRejectedMs: Math.round(elapsed),
        baselineMs: Math.round(baseline),
      };
    } finally {
      await h.close();
    }
  },
};

const COUNT = 100;
const LIMIT = 10;
const LATENCY_MS = 200;

/** 100 copies of payment-gateway-api on one issuer, each with one dynamic consumer (no rollout). */
function hundredOnOneIssuer(c: { credentials: CatalogCredential[] }): void {
  const template = c.credentials[0]!;
  c.credentials = Array.from({ length: COUNT }, (_, i) => {
    const name = `pay-${String(i).padStart(3, '0')}`;
    const consumer = {
      ...template.consumers[0]!,
      name: 'reader',
      reload: 'dynamic' as const,
      cacheTtlSeconds: 0,
    };
    return {
      ...template,
      name,
      store: `api-credentials/${name}`,
      kubernetesSecret: name,
      approvers: template.approvers,
      issuer: { ...template.issuer, name: 'shared.example.com', maxConcurrent: LIMIT },
      consumers: [
        {
          ...consumer,
          kubernetes: { namespace: 'bench', deployment: `${name}-reader`, externalSecret: name },
        },
      ],
    };
  });
}

export const issuerLimitBench: Bench = {
  name: 'emergency-limit',
  claim: `${COUNT} credentials of one issuer at ${LIMIT} calls in flight, vs the bound that limit implies`,
  target: 1.1,
  async run() {
    const h = await startHarness({
      rolloutDelayMs: 10,
      editCatalog: hundredOnOneIssuer,
      settings: { pollIntervalMs: 50 },
      extraEnv: { LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '64' },
    });
    try {
      h.world.provider.managementLatencyMs = LATENCY_MS;
      const before = h.world.provider.managementCalls();
      const t0 = performance.now();
      // Debug: how many of the limit's slots the provider had busy, sampled every 10 ms.
      const busy: number[] = [];
      const sampler = process.env.BENCH_DEBUG
        ? setInterval(() => busy.push(h.world.provider.inFlight()), 10)
        : undefined;
      const { started } = await h.services.service.startEmergency({
        credentials: h.world.catalog.credentials.map((c) => c.name),
        incident: INCIDENT,
        requester: responder,
      });
      // Until every consumer is verified on its new key: the part the issuer's limit governs. The
      // summaries after it are paced by Slack's one message per second per channel.
      const verified = (r: { steps: Array<{ name: string; status: string }> }) =>
        r.steps.some((s) => s.name === 'verify' && s.status === 'done');
      await Promise.all(started.map((r) => h.waitForRun(r.id, verified, 300_000)));
      const wall = performance.now() - t0;
      clearInterval(sampler);
      const runs = await Promise.all(started.map((r) => h.waitForRun(r.id, undefined, 300_000)));
      const calls = h.world.provider.managementCalls() - before;
      const bound = (calls * LATENCY_MS) / LIMIT;
      const failed = runs.filter((r) => r.outcome !== 'succeeded').length;
      if (process.env.BENCH_DEBUG) {
        const per = new Map<string, number[]>();
        for (const r of runs)
          for (const st of r.steps)
            if (st.startedAt && st.endedAt)
              per.set(st.name, [
                ...(per.get(st.name) ?? []),
                Date.parse(st.endedAt) - Date.parse(st.startedAt),
              ]);
        const tenth = Math.ceil(busy.length / 10);
        const deciles = Array.from({ length: 10 }, (_, i) => busy.slice(i * tenth, (i + 1) * tenth));
        console.error(
          'slots busy per tenth of the wall:',
          deciles.map((d) => (d.reduce((a, b) => a + b, 0) / Math.max(1, d.length)).toFixed(1)).join(' '),
        );
        for (const [k, v] of per)
          console.error(k, Math.round(v.reduce((a, b) => a + b, 0) / v.length), Math.max(...v));
      }
      return { ratio: wall / bound, wallMs: Math.round(wall), boundMs: Math.round(bound), calls, failed };
    } finally {
      await h.close();
    }
  },
};
