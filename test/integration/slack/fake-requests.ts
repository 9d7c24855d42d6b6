import type { CredentialSpec } from '../../../src/domain/credential';
import { RotatorError } from '../../../src/domain/errors';
import { buildPlan } from '../../../src/domain/plan';
import { assessAge } from '../../../src/domain/policy';
import type { AuditEntry, AuditLog } from '../../../src/domain/ports';
import { newRun, type Run } from '../../../src/domain/run';
import { Secret } from '../../../src/domain/secret';
import { buildInventory } from '../../../src/inventory/build';
import { byUrgency } from '../../../src/inventory/row';
import type { Dashboard, RotationRequests, RunHistoryEntry } from '../../../src/procedures/types';

export function spec(name: string, approvers: string[] = []): CredentialSpec {
  return {
    name,
    type: 'api_key',
    risk: 'standard',
    store: `api-credentials/${name}`,
    kubernetesSecret: name,
    issuer: {
      kind: 'rest_api_key',
      name: 'payment-provider.example.com',
      baseUrl: 'http://127.0.0.1:1',
      adminToken: new Secret('admin-token-never-shown'),
      permissions: ['charges:write'],
      keyName: name,
    },
    consumers: [
      {
        name: 'web-app',
        reload: 'startup',
        kubernetes: { namespace: 'payments', deployment: 'web-app', externalSecret: name },
      },
      { name: 'batch-processor', reload: 'scheduled' },
    ],
    contact: 'payments-team@example.com',
    channel: 'C_PAYMENTS',
    approvers,
  };
}

/** A RotationRequests stand-in that records start() calls (the real engine is swapped in by e2e tests). */
export class FakeRequests implements RotationRequests {
  readonly started: Array<Parameters<RotationRequests['start']>[0]> = [];
  startError?: RotatorError;
  planDelayMs = 0;
  private readonly specs: Map<string, CredentialSpec>;
  private n = 0;

  constructor(
    specs: CredentialSpec[],
    private readonly now: () => Date = () => new Date(),
  ) {
    this.specs = new Map(specs.map((s) => [s.name, s]));
  }

  credentialNames(): string[] {
    return [...this.specs.keys()].sort();
  }

  spec(name: string): CredentialSpec {
    const s = this.specs.get(name);
    if (!s) throw new RotatorError('unknown_credential', `no credential named ${name}`);
    return s;
  }

  private age(name: string) {
    const s = this.spec(name);
    const rotatedAt = new Date(this.now().getTime() - 97 * 86_400_000).toISOString();
    return assessAge({ type: s.type, risk: s.risk, rotatedAt, now: this.now() });
  }

  async plan(name: string) {
    if (this.planDelayMs) await new Promise((r) => setTimeout(r, this.planDelayMs));
    return buildPlan({ spec: this.spec(name), age: this.age(name), discovered: [] });
  }

  async start(input: Parameters<RotationRequests['start']>[0]): Promise<Run> {
    if (this.startError) throw this.startError;
    this.started.push(input);
    this.n += 1;
    return newRun({ id: `run-${this.n}`, now: this.now(), ...input });
  }

  readonly recovered: Array<Parameters<RotationRequests['recover']>[0]> = [];

  async recover(input: Parameters<RotationRequests['recover']>[0]): Promise<Run> {
    if (this.startError) throw this.startError;
    this.recovered.push(input);
    this.n += 1;
    return newRun({ id: `run-${this.n}`, now: this.now(), ...input, procedure: input.mode });
  }

  readonly emergencies: Array<Parameters<RotationRequests['startEmergency']>[0]> = [];

  /** Runs started by startEmergency (and any a test adds), for getRun and incidentRuns. */
  readonly runs = new Map<string, Run>();

  async emergencyScope(input: Parameters<RotationRequests['emergencyScope']>[0]) {
    const unknown = (input.credentials ?? []).filter((n) => !this.specs.has(n));
    const chosen = (input.credentials ?? []).filter((n) => this.specs.has(n));
    if (input.issuer) {
      const ofIssuer = [...this.specs.values()]
        .filter((s) => s.issuer.name === input.issuer)
        .map((s) => s.name);
      if (ofIssuer.length === 0) unknown.push(`issuer ${input.issuer}`);
      chosen.push(...ofIssuer.filter((n) => !chosen.includes(n)));
    }
    const targets = chosen.map((n) => {
      const s = this.spec(n);
      return {
        credential: n,
        type: s.type,
        issuer: s.issuer.name,
        keysToRevoke: [`key_${n}`],
        failingUntilRestart: s.consumers.filter((c) => c.reload === 'startup').map((c) => c.name),
        reloadingThemselves: s.consumers.filter((c) => c.reload !== 'startup').map((c) => c.name),
        deadlineMs: 15 * 60_000,
      };
    });
    return { targets, unknown };
  }

  async startEmergency(input: Parameters<RotationRequests['startEmergency']>[0]) {
    if (this.startError) throw this.startError;
    // As the real service: an unknown name refuses the whole request before anything starts.
    for (const credential of input.credentials) this.spec(credential);
    this.emergencies.push(input);
    const started = input.credentials.map((credential) => {
      this.n += 1;
      const run = newRun({
        id: `run-${this.n}`,
        now: this.now(),
        credential,
        requester: input.requester,
        procedure: 'emergency',
        incident: input.incident,
      });
      this.runs.set(run.id, run);
      return run;
    });
    return { started, alreadyRunning: [] };
  }

  async incidentRuns(ref: string): Promise<Run[]> {
    return [...this.runs.values()].filter((r) => r.incident?.ref === ref.toUpperCase());
  }

  async status(name: string) {
    return { age: this.age(name) };
  }

  async due() {
    return this.credentialNames().map((name) => ({ name, age: this.age(name), active: false }));
  }

  async getRun(id: string): Promise<Run | undefined> {
    return this.runs.get(id);
  }

  async history(): Promise<Run[]> {
    return [];
  }

  /** What pastRuns answers (a test sets it). */
  pastRunsResult: RunHistoryEntry[] = [];

  async pastRuns(): Promise<RunHistoryEntry[]> {
    return this.pastRunsResult;
  }

  /** The real inventory over a store where every credential was rotated 97 days ago. */
  inventory() {
    const rotatedAt = new Date(this.now().getTime() - 97 * 86_400_000).toISOString();
    const store = {
      read: async (path: string) => ({ path, version: 3, createdTime: rotatedAt, rotatedAt }),
      list: async () => [],
    };
    return buildInventory({ catalog: this.specs.values(), store }, { now: this.now() });
  }

  async dashboard(): Promise<Dashboard> {
    const report = await this.inventory();
    return { report, open: [], rows: byUrgency(report.rows).map((row) => ({ row })), more: 0 };
  }
}

export class MemoryAudit implements AuditLog {
  readonly entries: AuditEntry[] = [];

  async record(entry: AuditEntry): Promise<void> {
    this.entries.push(entry);
  }

  async recent() {
    return this.entries.map((e) => ({ ...e, time: e.time ?? new Date().toISOString() })).reverse();
  }
}
