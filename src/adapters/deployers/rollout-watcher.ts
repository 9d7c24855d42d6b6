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
  /**
   * The resourceVersion after which the running chain of watch requests (a request and its
   * resumptions) has delivered every change; undefined while none runs.
   */
  since?: string;
  /** `objects` holds every deployment of the namespace: a full list applied, watched ever since. */
  complete: boolean;
  /** A full list discovery made while no watch ran: where the next watch starts, and its objects. */
  snapshot?: { items: V1Deployment[]; resourceVersion: string; at: number };
  /** The watch is resumed until then (ms since the epoch) even with nobody waiting: discovery reads it. */
  keepUntil: number;
  /** The request in flight: events and endings of an older one are ignored. */
  session?: object;
  controller?: AbortController;
}

const rvOf = (d: V1Deployment) => d.metadata?.resourceVersion;

/** An etcd resourceVersion as a number; undefined for an opaque one (never compared). */
const rvNumber = (rv: string | undefined): number | undefined => {
  const n = Number(rv);
  return rv !== undefined && rv !== '' && Number.isSafeInteger(n) ? n : undefined;
};

/** How long a list discovery made may be where the next watch starts (a run's first minute). */
const SNAPSHOT_TTL_MS = 60_000;

/** How long a namespace's watch goes on after the last run that waited on it or discovered from it. */
const KEEP_WATCHING_MS = 5 * 60_000;

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
   * Every deployment of the namespace, as the watch shows them now, when it can tell: a full list
   * was applied and a watch has been connected since without a gap (it started at or before the
   * list's resourceVersion). Undefined otherwise: the caller lists. A change reaches the watch
   * within milliseconds of the API server accepting it; a discovery served from here may miss only
   * a change made in those milliseconds, as a list sent at the same moment could.
   */
  deployments(namespace: string): V1Deployment[] | undefined {
    const ns = this.namespaces.get(namespace);
    if (!ns?.complete || !ns.live || ns.session === undefined) return undefined;
    ns.keepUntil = Date.now() + KEEP_WATCHING_MS;
    return [...ns.objects.values()];
  }

  /**
   * A full list of the namespace's deployments (every page, no selector) at `resourceVersion`.
   * While a watch runs that has delivered every change since at or before that version, the list
   * makes its objects complete; while none runs, the next watch starts at the list's version with
   * its objects (a rollout's watch starts after the deployments discovery listed anyway).
   */
  listed(namespace: string, items: V1Deployment[], resourceVersion: string | undefined): void {
    const at = rvNumber(resourceVersion);
    if (this.closed || at === undefined) return;
    const ns = this.namespace(namespace);
    const since = rvNumber(ns.since);
    if (ns.session !== undefined && ns.live && since !== undefined && since <= at) {
      this.apply(ns, items, at);
      ns.complete = true;
      ns.keepUntil = Date.now() + KEEP_WATCHING_MS;
    } else if (ns.session === undefined) {
      ns.snapshot = { items, resourceVersion: resourceVersion!, at: Date.now() };
    }
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
      ns = { objects: new Map(), delivered: new Set(), live: false, complete: false, keepUntil: 0 };
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
    // A recent full list instead: merged in, every cached object is as it was at the list's
    // version or newer, so the watch starts there and holds every deployment of the namespace.
    const snapshot = ns.snapshot;
    delete ns.snapshot;
    ns.complete = false;
    const listedAt = rvNumber(snapshot?.resourceVersion);
    if (snapshot && listedAt !== undefined && Date.now() - snapshot.at < SNAPSHOT_TTL_MS) {
      this.apply(ns, snapshot.items, listedAt);
      ns.resourceVersion = snapshot.resourceVersion;
      ns.complete = true;
      ns.keepUntil = Date.now() + KEEP_WATCHING_MS;
    }
    ns.since = ns.resourceVersion;
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
      this.check({ namespace, deployment: name });
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
      // The server ended the request (timeoutSeconds): resume while someone still waits, or while
      // discovery reads the namespace from it. Resumed from the last version it showed, the chain
      // still holds every change.
      if (this.waitingOn(namespace) || Date.now() < ns.keepUntil) this.start(namespace, ns);
      else this.stopped(ns);
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
    this.stopped(ns);
    ns.objects.clear();
    ns.delivered.clear();
    delete ns.resourceVersion;
  }

  /** No watch runs: nothing tells of changes any more, so discovery lists again. */
  private stopped(ns: NamespaceWatch): void {
    ns.live = false;
    ns.complete = false;
    delete ns.since;
    delete ns.snapshot;
  }

  /**
   * A full list at version `at` merged in: a newer object known stays; one known from before the
   * list and absent from it was deleted by then.
   */
  private apply(ns: NamespaceWatch, items: V1Deployment[], at: number): void {
    const names = new Set<string>();
    for (const d of items) {
      const name = d.metadata?.name;
      if (!name) continue;
      names.add(name);
      if (newer(d, ns.objects.get(name))) ns.objects.set(name, d);
    }
    for (const [name, d] of ns.objects) {
      const rv = rvNumber(rvOf(d));
      if (!names.has(name) && (rv === undefined || rv <= at)) {
        ns.objects.delete(name);
        ns.delivered.delete(name);
      }
    }
  }

  private waitingOn(namespace: string): boolean {
    return [...this.waiters].some((w) => w.refs.some((r) => r.namespace === namespace));
  }

  /** Wakes the waiters whose rollouts have settled: all of them, or those waiting on `changed`. */
  private check(changed?: KubernetesRef): void {
    for (const w of [...this.waiters]) {
      if (
        changed &&
        !w.refs.some((r) => r.namespace === changed.namespace && r.deployment === changed.deployment)
      )
        continue;
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
