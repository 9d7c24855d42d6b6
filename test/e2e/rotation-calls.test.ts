import type { ProviderKeySummary } from '../../sandbox/provider';
import { startHarness, type Harness } from '../helpers/harness';
import { closeAndFindLeaks } from '../helpers/leaks';
import { grouped, oneRotation, startupSettled, totalOf } from '../helpers/rotation-calls';

/** Issue 10: one rotation of a credential with 1 to 3 consumers makes at most this many calls. */
const BUDGET = 20;

const pathOf = (call: string) => call.split(' ')[1]!.split('?')[0]!;
const count = (calls: string[], re: RegExp) => calls.filter((c) => re.test(c)).length;

/** What a PATCH may change of an object the bot patches: its spec and its annotations. */
function patchable(h: Harness, path: string): string {
  const m = /\/namespaces\/([^/]+)\/(deployments|externalsecrets)\/([^/]+)$/.exec(path);
  if (!m) throw new Error(`the bot patched an unexpected object: ${path}`);
  const [, ns, kind, name] = m as unknown as [string, string, string, string];
  const o =
    kind === 'deployments'
      ? h.world.kubernetes.deployment(ns, name)
      : h.world.kubernetes.externalSecret(ns, name);
  const meta = (o?.metadata ?? {}) as { annotations?: unknown };
  return JSON.stringify({ spec: o?.spec, annotations: meta.annotations ?? {} });
}

/** The objects of a credential the bot may patch: its consumers' deployments and ExternalSecrets. */
function patchableObjects(h: Harness, credential: string): Map<string, string> {
  const cred = h.world.catalog.credentials.find((c) => c.name === credential)!;
  const paths = cred.consumers.flatMap((c) => [
    `/apis/apps/v1/namespaces/${c.kubernetes.namespace}/deployments/${c.kubernetes.deployment}`,
    `/apis/external-secrets.io/v1/namespaces/${c.kubernetes.namespace}/externalsecrets/${c.kubernetes.externalSecret}`,
  ]);
  return new Map(paths.map((p) => [p, patchable(h, p)]));
}

/** KV v2 data of one version, read with the bot's token (after the calls were counted). */
async function versionData(h: Harness, path: string, version: number): Promise<string> {
  const res = await fetch(`${h.world.vault.url}/v1/${path}?version=${version}`, {
    headers: { 'X-Vault-Token': h.env.VAULT_TOKEN! },
  });
  const body = (await res.json()) as { data?: { data?: unknown } };
  return JSON.stringify(body.data?.data);
}

/** Every Vault write of the bot after audit entry `from`: the path and the version it made. */
function vaultWrites(h: Harness, from: number): Array<{ path: string; version: number }> {
  const entries = h.world.vault.auditLog.slice(from);
  const writes = entries.filter(
    (e) =>
      e.type === 'request' &&
      e.auth.display_name === 'token' &&
      ['create', 'update', 'patch'].includes(e.request.operation),
  );
  return writes.map((w) => {
    const answer = entries.find((e) => e.type === 'response' && e.request.id === w.request.id);
    const version = (answer?.response?.data as { version?: unknown } | undefined)?.version;
    if (typeof version !== 'number') throw new Error(`Vault ${w.request.path}: no version in the answer`);
    return { path: w.request.path, version };
  });
}

async function rotateAndCount(h: Harness, credential: string) {
  const objects = patchableObjects(h, credential);
  const keysBefore = new Map<string, ProviderKeySummary>(h.world.provider.keys().map((k) => [k.id, k]));
  const auditFrom = h.world.vault.auditLog.length;
  const { run, calls } = await oneRotation(h, credential);
  return { run, calls, objects, keysBefore, auditFrom };
}

describe('the external calls of one rotation', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    if (h) expect(await closeAndFindLeaks(h)).toEqual([]);
    h = undefined;
  });

  describe.each([
    ['payment-gateway-api', 3],
    ['crm-integration', 1],
  ])('of %s (%i consumers)', (credential, consumers) => {
    it(`stay within ${BUDGET}, and every write changes something`, async () => {
      // A poll a minute apart: every look the run makes is one the run asked for (the sync's
      // backoff, which the run counts), none a poll that came round meanwhile.
      h = await startHarness({
        settings: { pollIntervalMs: 60_000, quietWindowMs: 0 },
        rolloutDelayMs: 300,
        extraEnv: { RECONCILE_INTERVAL_SECONDS: '86400' },
      });
      await startupSettled(h);
      const { run, calls, objects, keysBefore, auditFrom } = await rotateAndCount(h, credential);
      const shown = JSON.stringify(grouped(calls));

      expect(run.outcome).toBe('succeeded');
      expect(h.world.catalog.credentials.find((c) => c.name === credential)!.consumers).toHaveLength(
        consumers,
      );
      // The Secret is read once, and once more per look that found it not synced yet.
      const syncChecks = run.facts.deploys?.forward?.syncChecks ?? 0;
      expect(count(calls.kubernetes, /^GET \/api\/v1\/namespaces\/[^/]+\/secrets\//)).toBe(1 + syncChecks);
      const total = totalOf(calls) - syncChecks;
      expect({ withinBudget: total <= BUDGET, total, calls: shown }).toEqual({
        withinBudget: true,
        total,
        calls: shown,
      });
      // Discovery once, the provider's keys listed once (the orphan sweep), Vault read back once
      // before the revocation and never re-read for what a step had just learned.
      expect(count(calls.kubernetes, /^GET [^ ]*\/deployments\?(?!.*watch=)/)).toBe(1);
      expect(count(calls.provider, /^GET \/v1\/api-keys$/)).toBe(1);
      expect(count(calls.vault, /^read /)).toBeLessThanOrEqual(3);

      // Kubernetes: each patched object patched once, and the patch changed it.
      const patched = calls.kubernetes.filter((c) => c.startsWith('PATCH ')).map(pathOf);
      expect(new Set(patched).size).toBe(patched.length);
      for (const path of patched) {
        expect({ path, changed: patchable(h, path) !== objects.get(path) }).toEqual({ path, changed: true });
      }
      // Vault: each write made a version whose data differs from the one before it.
      const writes = vaultWrites(h, auditFrom);
      expect(writes.length).toBe(count(calls.vault, /^(create|update|patch) /));
      for (const w of writes) {
        const [now, before] = await Promise.all([
          versionData(h, w.path, w.version),
          versionData(h, w.path, w.version - 1),
        ]);
        expect({ write: w, changed: now !== before }).toEqual({ write: w, changed: true });
      }
      // The provider: one key created, and only a key that was active revoked.
      expect(count(calls.provider, /^POST /)).toBe(1);
      const deleted = calls.provider
        .filter((c) => c.startsWith('DELETE '))
        .map((c) => pathOf(c).split('/').pop()!);
      expect(deleted).toEqual([run.facts.oldKeyId]);
      for (const id of deleted) expect(keysBefore.get(id)?.status).toBe('active');
    });
  });
});
