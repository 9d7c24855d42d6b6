/**
 * Claim: Slack's pace never slows a rotation. 100 rotations started from Slack, each reporting
 * (progress in its thread, summary there and in its credential's channel) to one channel, take as
 * long as 100 reporting to 100 distinct channels: wall time until every run is finished, as a
 * ratio. The one channel takes a message a second, so its messages trail the runs by minutes; the
 * runs do not wait for them. Target ≤ 1.2.
 */
import type { CatalogCredential } from '../sandbox/world';
import { startHarness } from '../test/helpers/harness';
import type { Bench } from './bench';

const COUNT = 100;
const channelOf = (shared: boolean, i: number) =>
  shared ? 'C_BENCH' : `C_BENCH_${String(i).padStart(3, '0')}`;

/** COUNT copies of payment-gateway-api, each with one dynamic consumer (no rollout to wait for). */
function hundred(shared: boolean) {
  return (c: { credentials: CatalogCredential[] }): void => {
    const template = c.credentials[0]!;
    c.credentials = Array.from({ length: COUNT }, (_, i) => {
      const name = `pay-${String(i).padStart(3, '0')}`;
      return {
        ...template,
        name,
        store: `api-credentials/${name}`,
        kubernetesSecret: name,
        channel: channelOf(shared, i),
        consumers: [
          {
            ...template.consumers[0]!,
            name: 'reader',
            reload: 'dynamic' as const,
            cacheTtlSeconds: 0,
            kubernetes: { namespace: 'bench', deployment: `${name}-reader`, externalSecret: name },
          },
        ],
      };
    });
  };
}

/** Wall time of COUNT rotations started from Slack, all reporting to one channel or each to its own. */
async function rotations(shared: boolean): Promise<{ wallMs: number; posted: number }> {
  const h = await startHarness({
    editCatalog: hundred(shared),
    settings: { pollIntervalMs: 50 },
    extraEnv: { LOG_LEVEL: 'warn', WORKER_CONCURRENCY: '16', OLD_KEY_QUIET_SECONDS: '0' },
  });
  try {
    for (let i = 0; i < (shared ? 1 : COUNT); i++)
      h.world.slack.addChannel({ id: channelOf(shared, i), name: `bench-${i}` });
    const t0 = performance.now();
    const started = await Promise.all(
      h.world.catalog.credentials.map((c, i) =>
        h.services.service.start({
          credential: c.name,
          requester: { kind: 'slack', id: 'U0BENCH' },
          slack: { channel: channelOf(shared, i), threadTs: `1700000000.${String(i).padStart(6, '0')}` },
        }),
      ),
    );
    const runs = await Promise.all(started.map((r) => h.waitForRun(r.id, undefined, 300_000)));
    const wallMs = performance.now() - t0;
    const failed = runs.filter((r) => r.outcome !== 'succeeded');
    if (failed.length > 0) throw new Error(`${failed.length} bench runs did not succeed`);
    const posted = h.world.slack
      .calls()
      .filter((c) => c.method === 'chat.postMessage' && c.status === 200).length;
    return { wallMs, posted };
  } finally {
    await h.close();
  }
}

export const notifyBench: Bench = {
  name: 'notify-channel',
  claim: `${COUNT} rotations reporting to one channel, vs ${COUNT} reporting to distinct channels`,
  target: 1.2,
  async run() {
    const distinct = await rotations(false);
    const one = await rotations(true);
    return {
      ratio: one.wallMs / distinct.wallMs,
      oneChannelMs: Math.round(one.wallMs),
      distinctChannelsMs: Math.round(distinct.wallMs),
      // Messages Slack had taken when the last run finished: the one channel's trail behind.
      postedByThenOne: one.posted,
      postedByThenDistinct: distinct.posted,
    };
  },
};
