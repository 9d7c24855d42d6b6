import { templateHash } from './objects';
import { isObject, type JsonObject } from './patch';
import type { Pods } from './pods';
import { completeRollout, failRollout, pauseRollout, progressRollout } from './rollout';
import type { ObjectStore } from './store';

export type Schedule = (id: string, ms: number, fn: () => void) => void;

const specOf = (d: JsonObject): JsonObject => (isObject(d.spec) ? d.spec : {});
const replicasOf = (d: JsonObject): number =>
  typeof specOf(d).replicas === 'number' ? Math.max(0, specOf(d).replicas as number) : 1;

/**
 * The deployment controller: a new pod template rolls out one pod at a time over `rolloutDelayMs`
 * (new pod up, oldest old pod gone), with the status `kubectl rollout status` reads at every step.
 */
export class DeploymentController {
  private readonly restartCount = new Map<string, number>();
  private readonly failNext = new Set<string>();

  constructor(
    private readonly store: ObjectStore,
    private readonly pods: Pods,
    private readonly schedule: Schedule,
    private readonly rolloutDelayMs: number,
  ) {}

  /** A new deployment: its pods start at once and it starts fully rolled out. */
  created(key: string): void {
    const d = this.store.get('deployments', key)!;
    const hash = templateHash(specOf(d).template);
    for (let i = 0; i < replicasOf(d); i++) this.pods.start(d, hash);
    completeRollout(d);
    this.store.put('deployments', key, d);
  }

  failNextRollout(key: string): void {
    this.failNext.add(key);
  }

  restarts(key: string): number {
    return this.restartCount.get(key) ?? 0;
  }

  /** After a spec change (the generation moved): roll out, scale, or just observe it. */
  specChanged(key: string): void {
    const d = this.store.get('deployments', key);
    if (!d) return;
    const hash = templateHash(specOf(d).template);
    const templateChanged = this.pods.of(key).some((p) => p.hash !== hash);
    const n = replicasOf(d);
    if (specOf(d).paused === true) {
      this.schedule(`deploy:${key}`, this.rolloutDelayMs, () =>
        this.observe(key, (x) => pauseRollout(x, templateChanged)),
      );
      return;
    }
    if (this.failNext.delete(key) && templateChanged) {
      this.schedule(`deploy:${key}`, this.rolloutDelayMs, () => {
        const current = this.store.get('deployments', key);
        if (!current) return;
        this.pods.start(current, hash, { unready: true });
        this.observe(key, failRollout);
      });
      return;
    }
    if (!templateChanged) {
      this.schedule(`deploy:${key}`, this.rolloutDelayMs, () => this.finish(key, hash, false));
      return;
    }
    const step = this.rolloutDelayMs / Math.max(1, n);
    const tick = (updated: number) => {
      const current = this.store.get('deployments', key);
      if (!current) return;
      if (updated + 1 >= n) return this.finish(key, hash, true);
      const old = this.pods.of(key).filter((p) => p.hash !== hash);
      this.pods.start(current, hash);
      if (old[0]) this.pods.stop(old[0].key);
      this.observe(key, (x) => progressRollout(x, updated + 1));
      this.schedule(`deploy:${key}`, step, () => tick(updated + 1));
    };
    this.schedule(`deploy:${key}`, step, () => tick(0));
  }

  /** A pod of the deployment was deleted: the ReplicaSet replaces it. */
  podDeleted(key: string): void {
    const d = this.store.get('deployments', key);
    if (!d) return;
    const hash = templateHash(specOf(d).template);
    this.schedule(`replace:${key}:${Date.now()}`, Math.min(50, this.rolloutDelayMs), () => {
      const current = this.store.get('deployments', key);
      if (current && this.pods.of(key).length < replicasOf(current)) this.pods.start(current, hash);
    });
  }

  /** Every pod runs the current template, as many as spec.replicas. */
  private finish(key: string, hash: string, rolledOut: boolean): void {
    const d = this.store.get('deployments', key);
    if (!d) return;
    for (const p of this.pods.of(key).filter((x) => x.hash !== hash)) this.pods.stop(p.key);
    const n = replicasOf(d);
    let current = this.pods.of(key);
    while (current.length < n) {
      this.pods.start(d, hash);
      current = this.pods.of(key);
    }
    for (const p of current.slice(n)) this.pods.stop(p.key);
    if (rolledOut) this.restartCount.set(key, this.restarts(key) + 1);
    this.observe(key, completeRollout);
  }

  private observe(key: string, write: (d: JsonObject) => void): void {
    const d = this.store.get('deployments', key);
    if (!d) return;
    write(d);
    this.store.put('deployments', key, d);
  }
}
