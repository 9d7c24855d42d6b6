/**
 * - concurrent: 100 rotations at once through one worker process, wall time as a ratio to one
 *   rotation's. Target ≤ 1.2.
 */
import type { CatalogCredential } from '../sandbox/world';
import { startHarness, type Harness } from '../test/helpers/harness';
import type { Bench } from './bench';

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
