import { isObject, type JsonObject } from './patch';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change to one object, as a watch replays it: the object after the change (and before). */
export interface StoredEvent {
  type: EventType;
  resource: string;
  resourceVersion: number;
  object: JsonObject;
  previous?: JsonObject;
}

type Listener = (event: StoredEvent) => void;

/** How many changes a watch can resume from; older resourceVersions answer 410 Gone, as etcd's compaction. */
const HISTORY = 2_000;

const metaOf = (o: JsonObject): JsonObject => {
  if (!isObject(o.metadata)) o.metadata = {};
  return o.metadata as JsonObject;
};

/**
 * The apiserver's storage: every object by resource and namespace/name, one resourceVersion counter
 * shared by all of them (etcd's revision), and the recent history of changes that watches resume from.
 * Objects handed out are the stored ones: callers that change one in place call `put` again.
 */
export class ObjectStore {
  private readonly objects = new Map<string, Map<string, JsonObject>>();
  private readonly history: StoredEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private rv = 1;

  resourceVersion(): number {
    return this.rv;
  }

  get(resource: string, key: string): JsonObject | undefined {
    return this.objects.get(resource)?.get(key);
  }

  /** Every object of a resource in etcd's key order (namespace/name), the order lists page in. */
  list(resource: string): Array<{ key: string; object: JsonObject }> {
    return [...(this.objects.get(resource) ?? new Map<string, JsonObject>()).entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, object]) => ({ key, object }));
  }

  /** Stores (or re-stores after an in-place change) an object with a new resourceVersion. */
  put(resource: string, key: string, object: JsonObject): JsonObject {
    const byKey = this.objects.get(resource) ?? new Map<string, JsonObject>();
    this.objects.set(resource, byKey);
    const previous = byKey.get(key);
    const snapshotBefore = previous ? this.lastSnapshot(resource, key) : undefined;
    this.rv += 1;
    metaOf(object).resourceVersion = String(this.rv);
    byKey.set(key, object);
    this.emit({
      type: previous ? 'MODIFIED' : 'ADDED',
      resource,
      resourceVersion: this.rv,
      object: structuredClone(object),
      ...(snapshotBefore ? { previous: snapshotBefore } : {}),
    });
    return object;
  }

  delete(resource: string, key: string): JsonObject | undefined {
    const byKey = this.objects.get(resource);
    const object = byKey?.get(key);
    if (!byKey || !object) return undefined;
    byKey.delete(key);
    this.rv += 1;
    const gone = structuredClone(object);
    metaOf(gone).resourceVersion = String(this.rv);
    this.emit({ type: 'DELETED', resource, resourceVersion: this.rv, object: gone, previous: gone });
    return object;
  }

  /** Changes after `rv`, oldest first; undefined when they are no longer kept (410 Gone). */
  since(resource: string, rv: number): StoredEvent[] | undefined {
    const oldest = this.history[0]?.resourceVersion;
    if (rv < this.rv && oldest !== undefined && rv < oldest - 1) return undefined;
    return this.history.filter((e) => e.resource === resource && e.resourceVersion > rv);
  }

  /** The oldest resourceVersion a watch can still resume from. */
  oldestResumable(): number {
    return (this.history[0]?.resourceVersion ?? this.rv + 1) - 1;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private lastSnapshot(resource: string, key: string): JsonObject | undefined {
    for (let i = this.history.length - 1; i >= 0; i--) {
      const e = this.history[i]!;
      if (e.resource === resource && keyOf(e.object) === key) return e.object;
    }
    return undefined;
  }

  private emit(event: StoredEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    for (const l of this.listeners) l(event);
  }
}

export function keyOf(o: JsonObject): string {
  const meta = isObject(o.metadata) ? o.metadata : {};
  return `${String(meta.namespace ?? '')}/${String(meta.name ?? '')}`;
}
