import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { CredentialSpec } from '../domain/credential';
import { parseCredentialName } from '../domain/credential';
import { RotatorError, isRotatorError } from '../domain/errors';
import { buildPlan, type Plan } from '../domain/plan';
import { assessAge, type AgeAssessment } from '../domain/policy';
import type { AuditLog, Clock, Deployer, SecretStore, StoredCredential } from '../domain/ports';
import { newRun, type Identity, type Run } from '../domain/run';
import { rotationJobId, type RotationJobData } from '../queue/names';
import type { RunStore } from '../queue/run-store';
import { dueStatuses, type DueStatus } from './due';
import type { RotationRequests } from './types';

export interface RotationServiceDeps {
  catalog: Map<string, CredentialSpec>;
  store: SecretStore;
  deployer: Deployer;
  runs: RunStore;
  queue: Queue<RotationJobData>;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  lockTtlMs: number;
  dueSoonDays: number;
}

const idOf = (who: Identity) => `${who.kind}:${who.name ?? who.id}`;

/** Plans and enqueues rotations; the only way commands and the CLI reach the engine. */
export class RotationService implements RotationRequests {
  constructor(private readonly deps: RotationServiceDeps) {}

  credentialNames(): string[] {
    return [...this.deps.catalog.keys()].sort();
  }

  spec(name: string): CredentialSpec {
    const valid = parseCredentialName(name);
    const spec = this.deps.catalog.get(valid);
    if (!spec)
      throw new RotatorError('unknown_credential', `no credential named ${valid} in the catalog`, {
        context: { name: valid },
      });
    return spec;
  }

  async plan(name: string): Promise<Plan> {
    const spec = this.spec(name);
    const [stored, discovered] = await Promise.all([
      this.deps.store.read(spec.store),
      spec.kubernetesSecret ? this.deps.deployer.discover(spec.kubernetesSecret) : Promise.resolve(undefined),
    ]);
    return buildPlan({
      spec,
      age: this.ageOf(spec, stored),
      ...(discovered ? { discovered } : {}),
      ...(stored?.metadata?.consumers ? { storedConsumers: stored.metadata.consumers } : {}),
      ...(stored?.metadata?.issuer ? { storedIssuer: stored.metadata.issuer } : {}),
    });
  }

  async start(input: {
    credential: string;
    requester: Identity;
    approver?: Identity;
    slack?: Run['slack'];
  }): Promise<Run> {
    const spec = this.spec(input.credential);
    const run = newRun({
      id: randomUUID(),
      credential: spec.name,
      requester: input.requester,
      ...(input.approver ? { approver: input.approver } : {}),
      ...(input.slack ? { slack: input.slack } : {}),
      now: this.deps.clock.now(),
    });
    const { runs, queue, audit } = this.deps;
    let locked = false;
    try {
      const lock = await runs.acquire(spec.name, run.id, this.deps.lockTtlMs);
      if (!lock.ok) {
        await audit.record({
          credential: spec.name,
          action: 'run.refused',
          outcome: 'refused',
          identity: idOf(input.requester),
          detail: `locked by run ${lock.holder}`,
        });
        throw new RotatorError('locked', `${spec.name} is already being rotated by run ${lock.holder}`, {
          context: { runId: lock.holder },
        });
      }
      locked = true;
      await runs.save(run);
      await audit.record({
        runId: run.id,
        credential: spec.name,
        action: 'run.requested',
        outcome: 'info',
        identity: idOf(input.requester),
        ...(input.approver ? { detail: `approved by ${idOf(input.approver)}` } : {}),
      });
      await queue.add('rotate', { runId: run.id }, { jobId: rotationJobId(run.id) });
      return run;
    } catch (e) {
      if (isRotatorError(e) && e.code === 'locked') throw e;
      // An add that failed on the way back may have landed: then the run is real and keeps its lock.
      const enqueued = await queue.getJob(rotationJobId(run.id)).catch(() => undefined);
      if (enqueued) return run;
      if (locked) await runs.release(spec.name, run.id).catch(() => undefined);
      this.deps.logger.error(
        { credential: spec.name, err: (e as Error).message },
        'rotation could not be enqueued',
      );
      throw new RotatorError(
        'queue_unavailable',
        `the rotation queue is unavailable: nothing was started for ${spec.name}`,
        {
          transient: true,
        },
      );
    }
  }

  async status(name: string): Promise<{ active?: Run; last?: Run; age: AgeAssessment }> {
    const spec = this.spec(name);
    const [holder, history, stored] = await Promise.all([
      this.deps.runs.lockHolder(spec.name),
      this.deps.runs.history(spec.name, 5),
      this.deps.store.read(spec.store),
    ]);
    const active = holder ? await this.deps.runs.get(holder) : undefined;
    const last = history.find((r) => r.status === 'finished');
    return { ...(active ? { active } : {}), ...(last ? { last } : {}), age: this.ageOf(spec, stored) };
  }

  due(): Promise<DueStatus[]> {
    return dueStatuses({
      specs: [...this.deps.catalog.values()],
      read: (spec) => this.deps.store.read(spec.store),
      lockHolders: (names) => this.deps.runs.lockHolders(names),
      ageOf: (spec, stored) => this.ageOf(spec, stored),
    });
  }

  /** Policy age from the store's rotated_at, falling back to the KV version's created_time. */
  private ageOf(spec: CredentialSpec, stored: StoredCredential | undefined): AgeAssessment {
    return assessAge({
      type: spec.type,
      risk: spec.risk,
      rotatedAt: stored?.rotatedAt,
      createdTime: stored?.createdTime,
      now: this.deps.clock.now(),
      warnDays: this.deps.dueSoonDays,
    });
  }

  getRun(id: string): Promise<Run | undefined> {
    return this.deps.runs.get(id);
  }

  history(name: string, limit = 10): Promise<Run[]> {
    return this.deps.runs.history(this.spec(name).name, limit);
  }
}
