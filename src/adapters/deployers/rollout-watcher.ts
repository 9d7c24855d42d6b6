import type { V1Deployment, Watch } from '@kubernetes/client-node';
import type { KubernetesRef } from '../../domain/credential';
import { rolloutStatus } from './rollout-status';

export interface RolloutWatcherOptions {
  /** How long one watch request lasts (the server ends it; resumed while anyone waits). */
  timeoutSeconds?: number;
  /**
   * After a watch of a namespace fails (refused, not streamed, broken), how long no new watch of it
   * starts (default 30 s): its waiters wait out their poll instead, so a watch that always fails
   * (RBAC without `watch`, a buffering proxy) cannot spin read-watch-fail.
   */
  failureBackoffMs?: number;
  onError?: (namespace: string, reason: string) => void;
}

interface Waiter {
  refs: KubernetesRef[];
  resolve(woken: boolean): void;
}

/** One namespace's watch: the deployments it has shown, and where to resume it. */
interface NamespaceWatch {
  objects: Map<string, V1Deployment>;
  /** Names whose object in `objects` a watch delivered since it started from the cache (resumes kept). */
  delivered: Set<string>;
  resourceVersion?: string;
  /** A watch request is connected (the server answered 200), so what it delivers is current. */
  live: boolean;
  /** No new watch starts before this (ms since the epoch): the last one failed. */
  retryAt?: number;
  /** The request in flight: events and endings of an older one are ignored. */
  session?: object;
  controller?: AbortController;
}

const rvOf = (d: V1Deployment) => d.metadata?.resourceVersion;

/** resourceVersions are opaque to clients; etcd's are integers, and only those are compared. */
function newer(candidate: V1Deployment, known: V1Deployment | undefined): boolean {
  if (!known) return true;
  const a = Number(rvOf(candidate));
  const b = Number(rvOf(known));
  return !(Number.isInteger(a) && Number.isInteger(b)) || a >= b;
}

const settled = (d: V1Deployment | undefined) => d !== undefined && rolloutStatus(d).state !== 'waiting';

/**
 * Watches the deployments being rolled out, one watch per namespace shared by every run of this
 * process, so a rollout that finishes is noticed at once instead of at the next poll. The watch
 * resumes from the last resourceVersion it saw (bookmarks included) while anyone waits, and stops
 * when its request ends with nobody waiting. A 410 Expired starts it over from the current state; a
 * watch that fails otherwise lets its waiters go to their poll and is not retried for a while.
 */
export class RolloutWatcher {
  private readonly namespaces = new Map<string, NamespaceWatch>();
  private readonly waiters = new Set<Waiter>();
  private readonly timeoutSeconds: number;
  private readonly failureBackoffMs: number;
  private closed = false;

  constructor(
    private readonly watch: Watch,
    private readonly opts: RolloutWatcherOptions = {},
  ) {
    this.timeoutSeconds = opts.timeoutSeconds ?? 30;
    this.failureBackoffMs = opts.failureBackoffMs ?? 30_000;
  }

  /** A deployment as an API call returned it: where a watch of it starts, never going back in time. */
  seen(d: V1Deployment): void {
    const name = d.metadata?.name;
    if (!name) return;
    const ns = this.namespace(d.metadata?.namespace ?? '');
    if (newer(d, ns.objects.get(name))) ns.objects.set(name, d);
  }

  /**
   * The deployment as the connected watch last delivered it; undefined when no connected watch
   * delivered it (a read from before the watch may have missed a change: the caller reads again).
   */
  current(ref: KubernetesRef): V1Deployment | undefined {
    const ns = this.namespaces.get(ref.namespace);
    return ns?.live && ns.delivered.has(ref.deployment) ? ns.objects.get(ref.deployment) : undefined;
  }

  /**
   * Resolves true once every rollout of `refs` has finished or failed as the watch shows it; false
   * after `maxMs`, when the watch failed (the caller's poll goes on) or on close. A new watch starts
   * after the oldest deployment of the namespace as last `seen`. Never rejects.
   */
  settled(refs: KubernetesRef[], maxMs: number): Promise<boolean> {
    if (this.closed || refs.length === 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), maxMs);
      timer.unref();
      const waiter: Waiter = { refs, resolve: (woken) => finish(woken) };
      const finish = (woken: boolean) => {
        clearTimeout(timer);
        if (this.waiters.delete(waiter)) resolve(woken);
      };
      this.waiters.add(waiter);
      for (const namespace of new Set(refs.map((r) => r.namespace))) this.ensure(namespace);
      this.check();
    });
  }

  close(): void {
    this.closed = true;
    for (const w of [...this.waiters]) w.resolve(false);
    for (const ns of this.namespaces.values()) ns.controller?.abort();
    this.namespaces.clear();
  }

  private namespace(namespace: string): NamespaceWatch {
    let ns = this.namespaces.get(namespace);
    if (!ns) {
      ns = { objects: new Map(), delivered: new Set(), live: false };
      this.namespaces.set(namespace, ns);
    }
    return ns;
  }

  private ensure(namespace: string): void {
    const ns = this.namespace(namespace);
    if (ns.session) return; // a request is connected or connecting
    if (ns.retryAt !== undefined && Date.now() < ns.retryAt) return;
    delete ns.retryAt;
    // Start after the oldest object known in the namespace, not only this waiter's: every cached
    // object, another waiter's included, then learns of any change after it was read.
    const versions = [...ns.objects.values()].map((d) => Number(rvOf(d))).filter((n) => Number.isInteger(n));
    if (versions.length > 0) ns.resourceVersion = String(Math.min(...versions));
    else delete ns.resourceVersion;
    ns.delivered.clear();
    this.start(namespace, ns);
  }

  private start(namespace: string, ns: NamespaceWatch): void {
    ns.live = false;
    const session = {};
    ns.session = session;
    delete ns.controller;
    const query = {
      allowWatchBookmarks: true,
      timeoutSeconds: this.timeoutSeconds,
      ...(ns.resourceVersion ? { resourceVersion: ns.resourceVersion } : {}),
    };
    const startedAt = Date.now();
    let broken: string | undefined;
    let expired = false;
    const onEvent = (type: string, object: unknown) => {
      if (ns.session !== session) return;
      if (type === 'ERROR') {
        // 410 Expired: the history to resume from is gone; anything else is as bad.
        const code = (object as { code?: unknown } | undefined)?.code;
        expired = code === 410;
        broken = `watch error ${typeof code === 'number' ? code : 'event'}`;
        ns.controller?.abort();
        return;
      }
      const d = object as V1Deployment;
      const rv = rvOf(d);
      if (rv) ns.resourceVersion = rv;
      if (type === 'BOOKMARK') return;
      const name = d.metadata?.name ?? '';
      if (type === 'DELETED') {
        ns.objects.delete(name);
        ns.delivered.delete(name);
      } else {
        ns.objects.set(name, d);
        ns.delivered.add(name);
      }
      this.check();
    };
    const onDone = (err: unknown) => {
      if (ns.session !== session || this.closed) return;
      delete ns.session;
      delete ns.controller;
      const reason = broken ?? (err ? errorName(err) : undefined);
      if (expired && query.resourceVersion !== undefined) return this.expire(namespace, ns, reason!);
      if (reason) return this.fail(namespace, ns, reason);
      // A server ends a watch at timeoutSeconds; one that answers and ends at once (a proxy that
      // does not stream) would be resumed in a loop.
      if (Date.now() - startedAt < (this.timeoutSeconds * 1000) / 2) {
        return this.fail(namespace, ns, 'watch ended early');
      }
      // The server ended the request (timeoutSeconds): resume while someone still waits.
      if (this.waitingOn(namespace)) this.start(namespace, ns);
      else ns.live = false;
    };
    this.watch
      .watch(`/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/deployments`, query, onEvent, onDone)
      .then((controller) => {
        if (this.closed) controller.abort();
        else if (ns.session === session) {
          // Connected (a failed request has already ended its session): from now on what it
          // delivers is the deployment as it is.
          ns.controller = controller;
          ns.live = true;
        }
      })
      .catch((e: unknown) => onDone(e));
  }

  /**
   * The watch cannot be trusted: forget what it showed, start none for a while, and let its waiters
   * go (false: their poll reads the deployments when it is due, not at once, so a watch that fails
   * at every attempt costs one request per backoff, not a loop).
   */
  private fail(namespace: string, ns: NamespaceWatch, reason: string): void {
    this.forget(ns);
    ns.retryAt = Date.now() + this.failureBackoffMs;
    this.opts.onError?.(namespace, reason);
    for (const w of [...this.waiters]) if (w.refs.some((r) => r.namespace === namespace)) w.resolve(false);
  }

  /** 410 Expired: the history to resume from is gone, so the watch starts over from the current state. */
  private expire(namespace: string, ns: NamespaceWatch, reason: string): void {
    this.forget(ns);
    this.opts.onError?.(namespace, reason);
    if (this.waitingOn(namespace)) this.start(namespace, ns);
  }

  private forget(ns: NamespaceWatch): void {
    ns.live = false;
    ns.objects.clear();
    ns.delivered.clear();
    delete ns.resourceVersion;
  }

  private waitingOn(namespace: string): boolean {
    return [...this.waiters].some((w) => w.refs.some((r) => r.namespace === namespace));
  }

  private check(): void {
    for (const w of [...this.waiters]) {
      const all = w.refs.every((r) => settled(this.namespaces.get(r.namespace)?.objects.get(r.deployment)));
      const oneFailed = w.refs.some((r) => {
        const d = this.namespaces.get(r.namespace)?.objects.get(r.deployment);
        return d !== undefined && rolloutStatus(d).state === 'failed';
      });
      if (all || oneFailed) w.resolve(true);
    }
  }
}

function errorName(e: unknown): string {
  if (typeof e !== 'object' || e === null) return 'watch failed';
  const { code, statusCode, name } = e as { code?: unknown; statusCode?: unknown; name?: unknown };
  if (typeof statusCode === 'number') return `watch answered HTTP ${statusCode}`;
  if (typeof code === 'string') return `watch failed (${code})`;
  return `watch failed (${typeof name === 'string' ? name : 'error'})`;
}
