/**
 * Issue 10's "external calls per rotation, 1–3 consumers: ≤ 20, and no write that is not a change".
 * One scheduled rotation of a 3-consumer credential (payment-gateway-api) and of a 1-consumer one
 * (crm-integration), each counted from a quiet system (the start-up reconciler done) to a quiet
 * system after the run finished, with the production poll interval. The ratio is the larger total
 * to the budget of 20; each service's calls are printed to stderr, grouped by method and path, so
 * each call can be put down to its step. Provider calls are its admin API's (key use on /v1/test,
 * the runbook's check that a key is accepted or refused, is not counted, as in the issue).
 */
import { startHarness } from '../test/helpers/harness';
import { grouped, oneRotation, startupSettled, totalOf, type CallList } from '../test/helpers/rotation-calls';
import type { Bench } from './bench';

export const BUDGET = 20;

const counts = (prefix: string, calls: CallList, syncChecks: number) => ({
  [`${prefix}.total`]: totalOf(calls),
  [`${prefix}.vault`]: calls.vault.length,
  [`${prefix}.kubernetes`]: calls.kubernetes.length,
  [`${prefix}.kubernetesPatches`]: calls.kubernetes.filter((c) => c.startsWith('PATCH ')).length,
  [`${prefix}.provider`]: calls.provider.length,
  [`${prefix}.slack`]: calls.slack.length,
  // Looks at the Secret that found the sync not done yet (each one a GET more).
  [`${prefix}.syncChecks`]: syncChecks,
});

export const callsBench: Bench = {
  name: 'calls',
  claim: `external calls of one rotation (Vault, Kubernetes, provider, Slack), 1 and 3 consumers, vs a budget of ${BUDGET}`,
  target: 1,
  async run() {
    const h = await startHarness({
      rolloutDelayMs: 200,
      // The production poll interval: what the bot does between looks, not what a fast test does.
      settings: { pollIntervalMs: 5_000, quietWindowMs: 300 },
      // No reconciler tick but the start-up one while calls are counted.
      extraEnv: { LOG_LEVEL: 'warn', RECONCILE_INTERVAL_SECONDS: '86400' },
    });
    try {
      await startupSettled(h);
      const three = await oneRotation(h, 'payment-gateway-api');
      const one = await oneRotation(h, 'crm-integration');
      for (const [name, r] of [
        ['payment-gateway-api (3 consumers)', three],
        ['crm-integration (1 consumer)', one],
      ] as const) {
        if (r.run.outcome !== 'succeeded') throw new Error(`${name}: the run ended ${r.run.outcome}`);
        console.error(JSON.stringify({ credential: name, calls: grouped(r.calls) }, null, 1));
      }
      const checks = (r: typeof one) => r.run.facts.deploys?.forward?.syncChecks ?? 0;
      return {
        ratio: Math.max(totalOf(three.calls), totalOf(one.calls)) / BUDGET,
        ...counts('three', three.calls, checks(three)),
        ...counts('one', one.calls, checks(one)),
      };
    } finally {
      await h.close();
    }
  },
};
