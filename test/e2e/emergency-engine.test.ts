import type { IncidentRecord } from '../../src/domain/incident';
import type { IncidentChannel } from '../../src/domain/ports';
import type { Run } from '../../src/domain/run';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startRole, type Running } from '../../src/main';
import { FAST_SETTINGS, startHarness, type Harness } from '../helpers/harness';
import { kill, spawnWorker } from '../helpers/child-worker';
import { findLeaks } from '../helpers/leaks';
import { eventually } from '../helpers/eventually';

const NAME = 'payment-gateway-api';
const PATH = 'api-credentials/payment-gateway-api';
const INCIDENT = { ref: 'INC-2024-0042', channel: 'C_INC_2024_0042' };
const responder = { kind: 'slack' as const, id: 'U0ERIN' };

/** What the engine told the incident channel, kept for assertions. */
class RecordingIncidents implements IncidentChannel {
  readonly escalations: Array<{ runId: string; text: string; security: boolean; at: number }> = [];
  readonly records: IncidentRecord[] = [];
  async escalate(run: Run, m: { text: string; security?: boolean }): Promise<void> {
    this.escalations.push({ runId: run.id, text: m.text, security: m.security ?? false, at: Date.now() });
  }
  async record(_run: Run, record: IncidentRecord): Promise<void> {
    this.records.push(record);
  }
}

/** The emergency procedure through the real engine, workers, Redis and doubles (the Slack side is tested apart). */
describe('emergency rotation', () => {
  let h: Harness;
  let incidents: RecordingIncidents;
  let extra: Running | undefined;
  afterEach(async () => {
    await extra?.stop();
    extra = undefined;
    const leaks = await findLeaks(h).finally(() => h.close());
    expect(leaks).toEqual([]);
  });

  const restartPatches = () =>
    h.world.kubernetes.requests().filter((r) => r.method === 'PATCH' && r.path.includes('/deployments/'));
  /** When each deployment was first asked to restart. */
  const firstRestarts = () => {
    const first = new Map<string, number>();
    for (const r of restartPatches()) {
      const name = /\/deployments\/([^/?]+)/.exec(r.path)![1]!;
      if (!first.has(name)) first.set(name, r.at);
    }
    return first;
  };

  describe('for one credential', () => {
    beforeEach(async () => {
      incidents = new RecordingIncidents();
      h = await startHarness({ incidents, rolloutDelayMs: 600 });
    });

    it('revokes the compromised key before any restart, deploys, verifies and records the incident', async () => {
      const compromised = h.world.vault.current(PATH)!.data.api_key as string;
      const compromisedId = h.world.seededKeyIds.get(NAME)!;
      // The attacker, from an address no consumer uses (the provider double's /_use hook).
      await fetch(`${h.world.provider.url}/_use`, {
        method: 'POST',
        body: JSON.stringify({ value: compromised }),
      });

      const { started } = await h.services.service.startEmergency({
        credentials: [NAME],
        incident: INCIDENT,
        requester: responder,
      });
      const run = await h.waitForRun(started[0]!.id);

      expect(run.outcome).toBe('succeeded');
      expect(run.procedure).toBe('emergency');
      const revokedAt = h.world.provider.keys().find((k) => k.id === compromisedId)!.revokedAtMs!;
      const firsts = firstRestarts();
      expect([...firsts.keys()].sort()).toEqual(['mobile-backend', 'web-app']);
      const times = [...firsts.values()];
      expect(revokedAt).toBeLessThan(Math.min(...times));
      // Every restart was requested before the first rollout (600 ms) could finish.
      expect(Math.max(...times) - Math.min(...times)).toBeLessThan(600);
      expect(h.world.provider.accepts(compromised)).toBe(false);

      const current = h.world.vault.current(PATH)!;
      expect(current.data.emergency_rotation).toBe('true');
      expect(current.data.incident_reference).toBe('INC-2024-0042');
      expect(current.data.previous_key).toBe('');
      expect(current.data.rotated_by).toBe('slack:U0ERIN');
      expect(h.world.provider.accepts(current.data.api_key as string)).toBe(true);
      for (const c of ['web-app', 'mobile-backend', 'batch-processor'])
        expect(h.world.consumerValue(NAME, c)).toBe(current.data.api_key);
      expect(run.facts.verifiedAt).toBeDefined();

      const record = await eventually(() => incidents.records[0]);
      expect(record).toMatchObject({
        incident: 'INC-2024-0042',
        credential: NAME,
        compromisedKeyIds: [compromisedId],
        verification: 'complete',
        rotatedBy: 'slack:U0ERIN',
      });
      const audited = (await h.services.audit.recent({ runId: run.id, limit: 100 })).find(
        (a) => a.action === 'incident.record',
      );
      expect(audited?.detail).toMatch(
        /^Emergency Credential Rotation\nIncident: INC-2024-0042\nCredential: payment-gateway-api/,
      );
      expect(audited?.detail).toContain('Verification complete: [complete]');

      // The assessment ran beside the run and found the attacker's use.
      const scope = await eventually(async () => {
        const s = await h.services.runs.getScope(run.id);
        return s?.status === 'done' ? s : undefined;
      });
      expect(scope.earliestSuspicious).toBeDefined();
      expect(scope.entries.some((e) => e.remoteAddress === '198.51.100.23' && !e.known)).toBe(true);
      expect(incidents.escalations.some((e) => e.text.includes('198.51.100.23'))).toBe(true);
    });

    it('says at once when the provider refuses the revocation, keeps retrying, and deploys nothing until it is revoked', async () => {
      const compromisedId = h.world.seededKeyIds.get(NAME)!;
      h.world.provider.faults.add({
        method: 'DELETE',
        path: `/v1/api-keys/${compromisedId}`,
        status: 403,
        body: { error: 'forbidden' },
      });
      const { started } = await h.services.service.startEmergency({
        credentials: [NAME],
        incident: INCIDENT,
        requester: responder,
      });
      const id = started[0]!.id;
      const refused = await eventually(() =>
        incidents.escalations.find((e) => e.text.includes('refused to revoke')),
      );
      expect(refused.text).toContain(compromisedId);
      await h.waitForRun(id, (r) =>
        r.steps.some((s) => s.name === 'revoke-compromised' && s.status === 'waiting'),
      );
      expect(restartPatches()).toEqual([]);
      h.world.provider.faults.clear();
      const run = await h.waitForRun(id);
      expect(run.outcome).toBe('succeeded');
      expect(h.world.provider.keys().find((k) => k.id === compromisedId)!.revokedAtMs!).toBeLessThan(
        restartPatches()[0]!.at,
      );
    });
  });

  describe('when a consumer stays unhealthy on the new key', () => {
    beforeEach(async () => {
      incidents = new RecordingIncidents();
      h = await startHarness({ incidents, settings: { rolloutTimeoutMs: 2_000 } });
    });

    it('never rolls back when a consumer stays unhealthy: it escalates and ends with verification pending', async () => {
      const compromised = h.world.vault.current(PATH)!.data.api_key as string;
      h.world.apps.get(NAME)!.forceUnhealthy('web-app', true);
      const { started } = await h.services.service.startEmergency({
        credentials: [NAME],
        incident: INCIDENT,
        requester: responder,
      });
      const run = await h.waitForRun(started[0]!.id, undefined, 30_000);
      expect(run.outcome).toBe('failed');
      expect(run.facts.verificationPending).toBe(true);
      expect(run.steps.some((s) => s.phase === 'rollback')).toBe(false);
      expect(
        incidents.escalations.some((e) => e.text.includes('web-app') && e.text.includes('no rollback')),
      ).toBe(true);
      expect((await eventually(() => incidents.records[0])).verification).toBe('pending');
      expect(h.world.vault.current(PATH)!.data.api_key).not.toBe(compromised);
      expect(h.world.provider.accepts(compromised)).toBe(false);
    });
  });

  describe('when a scheduled rotation of the credential is in progress', () => {
    beforeEach(async () => {
      incidents = new RecordingIncidents();
      h = await startHarness({ incidents, rolloutDelayMs: 1_500 });
    });

    it('takes it over: the scheduled run stops, and nothing it created stays active', async () => {
      const scheduled = await h.services.service.start({
        credential: NAME,
        requester: { kind: 'cli', id: 'alice', name: 'alice' },
      });
      const mid = await h.waitForRun(scheduled.id, (r) =>
        r.steps.some((s) => s.name === 'deploy' && s.status === 'waiting'),
      );
      const scheduledKey = mid.facts.newKeyId!;
      const { started } = await h.services.service.startEmergency({
        credentials: [NAME],
        incident: INCIDENT,
        requester: responder,
      });
      const emergency = await h.waitForRun(started[0]!.id);
      const stopped = await h.waitForRun(scheduled.id);

      expect(stopped.outcome).toBe('failed');
      expect(stopped.failure).toMatchObject({ code: 'taken_over' });
      expect(stopped.failure!.message).toContain(emergency.id);
      expect(emergency.outcome).toBe('succeeded');
      const active = h.world.provider.activeKeys().map((k) => k.id);
      expect(active).toContain(emergency.facts.newKeyId);
      expect(active).not.toContain(scheduledKey);
      expect(active).not.toContain(h.world.seededKeyIds.get(NAME));
      expect(h.world.vault.current(PATH)!.data.api_key_id).toBe(emergency.facts.newKeyId);
      expect(await h.services.runs.lockHolder(NAME)).toBeUndefined();
    });
  });

  describe('when the worker dies in the middle of an emergency', () => {
    beforeEach(async () => {
      incidents = new RecordingIncidents();
      h = await startHarness({
        incidents,
        worker: false,
        rolloutDelayMs: 1_500,
        extraEnv: { WORKER_LOCK_MS: '2000', LOG_LEVEL: 'info' },
      });
    });

    it('another worker finishes it, and the compromised key is never reinstated anywhere', async () => {
      const compromised = h.world.vault.current(PATH)!.data.api_key as string;
      const base = h.world.vault.versions(PATH);
      const first = spawnWorker(h.env);
      try {
        const { started } = await h.services.service.startEmergency({
          credentials: [NAME],
          incident: INCIDENT,
          requester: responder,
        });
        const id = started[0]!.id;
        await h.waitForRun(id, (r) => r.facts.deploys?.forward?.restartRequestedAt !== undefined, 30_000);
        await kill(first.child);
        extra = await startRole('worker', loadConfig(h.env), createLogger('info', h.logs), {
          settings: FAST_SETTINGS,
          incidents,
        });
        const run = await h.waitForRun(id, undefined, 30_000);
        expect(run.outcome).toBe('succeeded');
      } finally {
        await kill(first.child);
      }
      expect(h.world.provider.accepts(compromised)).toBe(false);
      for (let v = base + 1; v <= h.world.vault.versions(PATH); v++) {
        expect((await h.services.store.read(PATH, v))?.value?.reveal()).not.toBe(compromised);
      }
      for (const c of ['web-app', 'mobile-backend', 'batch-processor'])
        expect(h.world.consumerValue(NAME, c)).not.toBe(compromised);
    }, 60_000);
  });

  describe('for three credentials of one issuer limited to one call at a time', () => {
    beforeEach(async () => {
      incidents = new RecordingIncidents();
      h = await startHarness({
        incidents,
        cacheTtlSeconds: 1,
        editCatalog: (c) => {
          // The three credentials of the REST provider (IAM, OAuth and manual ones have issuers of their own).
          c.credentials = c.credentials.filter((cred) => cred.issuer.kind === 'rest_api_key');
          for (const cred of c.credentials) {
            cred.issuer.name = 'shared-provider.example.com';
            cred.issuer.maxConcurrent = 1;
          }
        },
      });
    });

    it('rotates all three in one incident, and the provider never sees two calls at once across two workers', async () => {
      extra = await startRole('worker', loadConfig(h.env), createLogger('info', h.logs), {
        settings: FAST_SETTINGS,
        incidents,
      });
      h.world.provider.managementLatencyMs = 30;
      h.world.provider.resetInFlight();
      // Every credential of the shared REST provider (the others have issuers of their own).
      const names = h.world.catalog.credentials
        .filter((c) => c.issuer.kind === 'rest_api_key')
        .map((c) => c.name);
      const { started } = await h.services.service.startEmergency({
        credentials: names,
        incident: INCIDENT,
        requester: responder,
      });
      expect(started).toHaveLength(3);
      const runs = await Promise.all(started.map((r) => h.waitForRun(r.id, undefined, 30_000)));
      expect(runs.map((r) => r.outcome)).toEqual(['succeeded', 'succeeded', 'succeeded']);
      expect(h.world.provider.maxInFlight()).toBe(1);
      // One incident message, edited in place, a row per credential.
      const board = await eventually(() => {
        const posted = h.world.slack.messages(INCIDENT.channel).filter((m) => !m.threadTs);
        const rows = posted.filter((m) => names.every((n) => JSON.stringify(m.blocks).includes(n)));
        return rows.length === 1 ? rows : undefined;
      }, 10_000);
      expect(board).toHaveLength(1);
      expect(
        (await h.services.service.incidentRuns('INC-2024-0042')).map((r) => r.credential).sort(),
      ).toEqual([...names].sort());
    });
  });
});
