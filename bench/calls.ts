/**
 * - calls: external calls one scheduled rotation makes (Vault, Kubernetes, the provider, Slack),
 *   as a ratio to the budget of 20. Target ≤ 1.
 */
import { startHarness, type Harness } from '../test/helpers/harness';
import type { Bench } from './bench';

export async function rotateAll(h: Harness, names: string[]): Promise<number> {
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
