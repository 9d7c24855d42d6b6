/**
 * In-memory fakes of the project's own ports (src/domain/ports.ts), for unit tests of the engine
 * and its steps. Real services (Redis) stay real; these only stand in for Vault, the issuer, the
 * cluster, health checks, the audit trail and chat. Each keeps its state inspectable, so tests
 * assert what happened to the "world", not which calls were made.
 */
import { valueFields } from '../../src/adapters/store/vault-fields';
import { RotatorError } from '../../src/domain/errors';
import type {
  AuditEntry,
  AuditLog,
  ChatNotifier,
  Clock,
  Deployer,
  DiscoveredConsumer,
  HealthChecker,
  HealthResult,
  IssuedKeyInfo,
  Issuer,
  KeyStatus,
  RolloutState,
  SecretStore,
  StorePatch,
  StoreVersionWrite,
  StoredCredential,
} from '../../src/domain/ports';
import type { Consumer, CredentialSpec, KubernetesRef } from '../../src/domain/credential';
import type { Run } from '../../src/domain/run';
import { Secret } from '../../src/domain/secret';

/** A clock tests move by hand: no sleeps. */
export class FakeClock implements Clock {
  constructor(private ms = Date.parse('2026-03-01T10:00:00.000Z')) {}
  now(): Date {
    return new Date(this.ms);
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

type StoreOp = 'read' | 'write' | 'patch' | 'list';

/**
 * Vault KV v2: versions per path, check-and-set on write and patch. `before` runs ahead of every
 * operation (throw from it to inject a fault, or change the store to race the caller).
 */
export class FakeSecretStore implements SecretStore {
  private readonly entries = new Map<string, StoredCredential[]>();
  before: (op: StoreOp, path: string) => void | Promise<void> = () => undefined;

  constructor(private readonly clock: Clock) {}

  /** Every version of a path, oldest first. */
  versions(path: string): StoredCredential[] {
    return this.entries.get(path) ?? [];
  }

  /** The path and all its versions gone (a metadata delete). */
  destroy(path: string): void {
    this.entries.delete(path);
  }

  /** The field Vault would read the value from (the store itself keeps values by meaning). */
  valueField(path: string): string {
    return valueFields(path).value;
  }

  current(path: string): StoredCredential | undefined {
    return this.versions(path).at(-1);
  }

  async read(path: string, version?: number): Promise<StoredCredential | undefined> {
    await this.before('read', path);
    const all = this.versions(path);
    return version === undefined ? all.at(-1) : all.find((v) => v.version === version);
  }

  async write(path: string, data: StoreVersionWrite, cas: number): Promise<number> {
    await this.before('write', path);
    this.checkAndSet(path, cas);
    const version = this.versions(path).length + 1;
    this.entries.set(path, [
      ...this.versions(path),
      { ...data, path, version, createdTime: this.clock.now().toISOString() },
    ]);
    return version;
  }

  async patch(path: string, patch: StorePatch, cas: number): Promise<number> {
    await this.before('patch', path);
    const current = this.current(path);
    if (!current) throw new RotatorError('store_missing', `nothing at ${path} to patch`);
    this.checkAndSet(path, cas);
    const { clearPrevious, metadata, ...fields } = patch;
    const next: StoredCredential = {
      ...current,
      ...fields,
      ...(metadata ? { metadata: { ...current.metadata, ...metadata } } : {}),
      version: current.version + 1,
      createdTime: this.clock.now().toISOString(),
    };
    if (clearPrevious) {
      delete next.previousValue;
      delete next.previousKeyId;
    }
    this.entries.get(path)!.push(next);
    return next.version;
  }

  async list(folder: string): Promise<string[]> {
    await this.before('list', folder);
    return [...this.entries.keys()]
      .filter((p) => p.startsWith(folder))
      .map((p) => p.slice(folder.length).split('/')[0]!);
  }

  private checkAndSet(path: string, cas: number): void {
    const current = this.versions(path).length;
    if (cas !== current) {
      throw new RotatorError(
        'store_conflict',
        `check-and-set version ${cas} is no longer current for ${path} (${current})`,
      );
    }
  }
}

interface FakeKey {
  keyId: string;
  label: string;
  value: Secret;
  createdAt: Date;
  revokedAt?: Date;
  lastUsedAt?: Date;
  refused?: boolean;
}

/**
 * A REST API-key provider. A revoked key keeps being accepted for `propagationMs` (the runbook's
 * 5-15 minutes). `use()` is a client calling with a key, which the provider's usage data reports.
 */
export class FakeIssuer implements Issuer {
  private readonly keys = new Map<string, FakeKey>();
  private seq = 0;
  propagationMs = 0;
  /** Keys `create` makes from now on are listed active but refused (wrong scopes, wrong format). */
  refuseCreated = false;
  /** Runs inside `create`, after the key exists: lets a test race the rotation at that moment. */
  onCreate: () => void | Promise<void> = () => undefined;
  /** Runs ahead of every call; throw from it to inject a fault. */
  before: (op: keyof Issuer) => void | Promise<void> = () => undefined;

  constructor(private readonly clock: Clock) {}

  /** A key made outside any rotation (the seeded one, a hand-made one). */
  issue(label: string): { keyId: string; value: Secret } {
    const keyId = `key-${++this.seq}`;
    const value = new Secret(`sk_test_${keyId}_${label.replace(/\W/g, '')}_value`);
    this.keys.set(keyId, { keyId, label, value, createdAt: this.clock.now() });
    return { keyId, value };
  }

  /** A client calls with `value` now. */
  use(value: Secret): void {
    const key = this.find(value);
    if (key) key.lastUsedAt = this.clock.now();
  }

  statusOf(keyId: string): KeyStatus {
    const key = this.keys.get(keyId);
    return key ? (key.revokedAt ? 'revoked' : 'active') : 'absent';
  }

  activeKeyIds(): string[] {
    return [...this.keys.values()].filter((k) => !k.revokedAt).map((k) => k.keyId);
  }

  async create(label: string): Promise<{ keyId: string; value: Secret }> {
    await this.before('create');
    const key = this.issue(label);
    if (this.refuseCreated) this.keys.get(key.keyId)!.refused = true;
    await this.onCreate();
    return key;
  }

  async list(): Promise<IssuedKeyInfo[]> {
    await this.before('list');
    return [...this.keys.values()].map((k) => ({
      keyId: k.keyId,
      label: k.label,
      status: this.statusOf(k.keyId),
      createdAt: k.createdAt.toISOString(),
      ...(k.lastUsedAt ? { lastUsedAt: k.lastUsedAt.toISOString() } : {}),
    }));
  }

  async status(keyId: string): Promise<KeyStatus> {
    await this.before('status');
    return this.statusOf(keyId);
  }

  async revoke(keyId: string): Promise<void> {
    await this.before('revoke');
    const key = this.keys.get(keyId);
    if (key && !key.revokedAt) key.revokedAt = this.clock.now();
  }

  async lastUsed(keyId: string): Promise<Date | undefined> {
    await this.before('lastUsed');
    return this.keys.get(keyId)?.lastUsedAt;
  }

  async accepts(value: Secret): Promise<boolean> {
    await this.before('accepts');
    const key = this.find(value);
    if (!key || key.refused) return false;
    if (!key.revokedAt) return true;
    return this.clock.now().getTime() - key.revokedAt.getTime() < this.propagationMs;
  }

  private find(value: Secret): FakeKey | undefined {
    return [...this.keys.values()].find((k) => k.value.equals(value));
  }
}

/** The cluster: what references the secret, and rollouts that finish when the test says so. */
export class FakeDeployer implements Deployer {
  discovered: DiscoveredConsumer[] = [];
  /** Rollout state per namespace/deployment; `done` unless set. */
  readonly rollouts = new Map<string, RolloutState>();
  syncsComplete = true;
  readonly restarts: Array<{ ref: KubernetesRef; at: string }> = [];
  readonly syncs: Array<{ namespace: string; name: string; at: string }> = [];
  readonly syncChecks: Array<{ namespace: string; name: string; since: string; expectedDigest?: string }> =
    [];
  /** Runs ahead of every call; throw from it to inject a fault. */
  before: (op: keyof Deployer) => void | Promise<void> = () => undefined;
  /** A watch on the rollouts (as the Kubernetes deployer has): none unless a test gives one. */
  rolloutsSettled?: (refs: KubernetesRef[], maxMs: number) => Promise<boolean>;

  /** Discovers exactly the spec's declared Kubernetes consumers. */
  static matching(spec: CredentialSpec): FakeDeployer {
    const d = new FakeDeployer();
    d.discovered = spec.consumers
      .filter((c) => c.kubernetes)
      .map((c) => ({
        namespace: c.kubernetes!.namespace,
        deployment: c.kubernetes!.deployment,
        via: ['env'],
      }));
    return d;
  }

  async forceSync(namespace: string, name: string, at: Date): Promise<void> {
    await this.before('forceSync');
    this.syncs.push({ namespace, name, at: at.toISOString() });
  }

  async synced(namespace: string, name: string, since: Date, expectedDigest?: string): Promise<boolean> {
    await this.before('synced');
    this.syncChecks.push({ namespace, name, since: since.toISOString(), expectedDigest });
    return this.syncsComplete;
  }

  async restart(ref: KubernetesRef, at: Date): Promise<void> {
    await this.before('restart');
    this.restarts.push({ ref, at: at.toISOString() });
  }

  async rolloutStatus(ref: KubernetesRef): Promise<RolloutState> {
    await this.before('rolloutStatus');
    return this.rollouts.get(`${ref.namespace}/${ref.deployment}`) ?? { state: 'done' };
  }

  async discover(): Promise<DiscoveredConsumer[]> {
    await this.before('discover');
    return this.discovered;
  }
}

/** Health checks: every consumer healthy unless marked otherwise. */
export class FakeHealthChecker implements HealthChecker {
  readonly unhealthy = new Map<string, { status?: number; detail: string }>();

  async check(consumer: Consumer): Promise<HealthResult> {
    // Like the HTTP checker: a consumer without a declared check is not checked, only reported so.
    if (!consumer.health) return { consumer: consumer.name, ok: true, detail: 'no health check declared' };
    const bad = this.unhealthy.get(consumer.name);
    if (!bad) return { consumer: consumer.name, ok: true, status: 200, detail: 'ok' };
    return {
      consumer: consumer.name,
      ok: false,
      detail: bad.detail,
      ...(bad.status !== undefined ? { status: bad.status } : {}),
    };
  }
}

/** The audit trail; `failing` makes a record reject like the Redis stream being down. */
export class FakeAuditLog implements AuditLog {
  readonly entries: Array<AuditEntry & { time: string }> = [];
  failing: (entry: AuditEntry) => boolean = () => false;

  constructor(private readonly clock: Clock) {}

  async record(entry: AuditEntry): Promise<void> {
    if (this.failing(entry)) {
      throw new RotatorError('audit_unavailable', `audit record could not be written (${entry.action})`, {
        transient: true,
      });
    }
    this.entries.push({ ...entry, time: entry.time ?? this.clock.now().toISOString() });
  }

  async recent(filter: {
    credential?: string;
    runId?: string;
    limit?: number;
  }): Promise<Array<AuditEntry & { time: string }>> {
    return this.entries
      .filter(
        (e) =>
          (!filter.credential || e.credential === filter.credential) &&
          (!filter.runId || e.runId === filter.runId),
      )
      .reverse()
      .slice(0, filter.limit ?? 50);
  }

  actions(): string[] {
    return this.entries.map((e) => (e.step ? `${e.action}:${e.step}` : e.action));
  }
}

/** Chat: keeps a copy of every progress update and summary. */
export class FakeChatNotifier implements ChatNotifier {
  readonly progressed: Run[] = [];
  readonly summaries: Run[] = [];
  /** Set to make chat fail, like Slack answering not_in_channel. */
  progressError: Error | undefined;
  summaryError: Error | undefined;
  /** The ts of the progress message once posted. */
  progressTs = '1700000000.000100';

  async progress(run: Run): Promise<{ progressTs?: string }> {
    if (this.progressError) throw this.progressError;
    this.progressed.push(structuredClone(run));
    return { progressTs: this.progressTs };
  }

  async summary(run: Run): Promise<void> {
    if (this.summaryError) throw this.summaryError;
    this.summaries.push(structuredClone(run));
  }
}
