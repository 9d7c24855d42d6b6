/**
 * Issue 10's "external calls per rotation, 1–3 consumers: ≤ 20, and no write that is not a change".
 * One scheduled rotation of a 3-consumer credential (payment-gateway-api) and of a 1-consumer one
 * (crm-integration), each counted from a quiet system (the start-up reconciler done) to a quiet
 * system after the run finished. The ratio is the larger total to the budget of 20; the call list
 * of each service is printed to stderr, grouped by method and path, so each call has a step.
 */
import type { Harness } from '../test/helpers/harness';
import { startHarness } from '../test/helpers/harness';
import { eventually } from '../test/helpers/eventually';
import { MAINTENANCE_QUEUE, RECONCILE_JOB } from '../src/queue/names';
import { Queue } from 'bullmq';
import type { Bench } from './bench';

export const BUDGET = 20;

export type Service = 'vault' | 'kubernetes' | 'provider' | 'slack';
export type CallList = Record<Service, string[]>;

/** Every call the bot made so far, per service, as `METHOD path` (Vault: operation and path). */
export function callsSoFar(h: Harness): CallList {
  return {
    vault: h.world.vault.auditLog
      .filter((e) => e.type === 'request' && e.auth.display_name === 'token')
      .map((e) => `${e.request.operation} ${e.request.path}`),
    kubernetes: h.world.kubernetes.requests().map((r) => `${r.method} ${r.path}`),
    provider: h.world.provider.managementLog().map((r) => `${r.method} ${r.path}`),
    slack: h.world.slack.calls().map((c) => c.method),
  };
}

const SERVICES: Service[] = ['vault', 'kubernetes', 'provider', 'slack'];
const since = (before: CallList, after: CallList): CallList =>
  Object.fromEntries(SERVICES.map((s) => [s, after[s].slice(before[s].length)])) as CallList;
const total = (l: CallList) => SERVICES.reduce((n, s) => n + l[s].length, 0);

/** Waits until no service has seen a call for `quietMs`. */
export async function quiet(h: Harness, quietMs = 400): Promise<void> {
  let last = total(callsSoFar(h));
  let at = Date.now();
  await eventually(
    async () => {
      const now = total(callsSoFar(h));
      if (now !== last) [last, at] = [now, Date.now()];
      return Date.now() - at >= quietMs ? true : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50, describe: () => 'the doubles never went quiet' },
  );
}

/** The start-up reconciler's run has finished (its calls are not the rotation's). */
export async function startupSettled(h: Harness): Promise<void> {
  const q = new Queue(MAINTENANCE_QUEUE, { connection: h.redis, prefix: h.prefix });
  try {
    await eventually(
      async () => {
        const done = await q.getJobs(['completed', 'failed']);
        return done.some((j) => j.name === RECONCILE_JOB) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, describe: () => 'the start-up reconciler never finished' },
    );
  } finally {
    await q.close();
  }
  await quiet(h);
}

/** The calls of one rotation of `credential`, from a quiet system to a quiet system. */
export async function callsOfOneRotation(h: Harness, credential: string): Promise<CallList> {
  await quiet(h);
  const before = callsSoFar(h);
  const run = await h.services.service.start({ credential, requester: { kind: 'cli', id: 'bench' } });
  const done = await h.waitForRun(run.id, undefined, 120_000);
  if (done.outcome !== 'succeeded') throw new Error(`${credential}: the run ended ${done.outcome}`);
  await quiet(h);
  return since(before, callsSoFar(h));
}

/** `n× METHOD path` lines in order of first appearance, per service. */
export function grouped(calls: CallList): Record<Service, string[]> {
  const out = {} as Record<Service, string[]>;
  for (const s of SERVICES) {
    const counts = new Map<string, number>();
    for (const c of calls[s]) counts.set(c, (counts.get(c) ?? 0) + 1);
    out[s] = [...counts].map(([c, n]) => `${n}× ${c}`);
  }
  return out;
}

const count = (calls: CallList) => ({
  total: total(calls),
  vault: calls.vault.length,
  kubernetes: calls.kubernetes.length,
  kubernetesPatches: calls.kubernetes.filter((c) => c.startsWith('PATCH ')).length,
  provider: calls.provider.length,
  slack: calls.slack.length,
});

export const callsBench: Bench = {
  name: 'calls',
  claim: `external calls of one rotation (Vault, Kubernetes, provider, Slack), 1 and 3 consumers, vs a budget of ${BUDGET}`,
  target: 1,
  async run() {
    const h = await startHarness({
      rolloutDelayMs: 200,
      // No reconciler tick other than the start-up one during the measurement.
      extraEnv: { LOG_LEVEL: 'warn', RECONCILE_INTERVAL_SECONDS: '86400' },
    });
    try {
      await startupSettled(h);
      const three = await callsOfOneRotation(h, 'payment-gateway-api');
      const one = await callsOfOneRotation(h, 'crm-integration');
      console.error(
        JSON.stringify({ credential: 'payment-gateway-api (3 consumers)', calls: grouped(three) }, null, 1),
      );
      console.error(
        JSON.stringify({ credential: 'crm-integration (1 consumer)', calls: grouped(one) }, null, 1),
      );
      const c3 = count(three);
      const c1 = count(one);
      return {
        ratio: Math.max(c3.total, c1.total) / BUDGET,
        ...Object.fromEntries(Object.entries(c3).map(([k, v]) => [`three.${k}`, v])),
        ...Object.fromEntries(Object.entries(c1).map(([k, v]) => [`one.${k}`, v])),
      };
    } finally {
      await h.close();
    }
  },
};
