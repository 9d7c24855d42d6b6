/**
 * The segment-calls bench's caller, a process of its own so its CPU is the callers' alone: the
 * external calls of a rotation's first segment, made through the adapters the worker uses (the
 * client libraries with their shared agents), and nothing else: no engine, no run record, no audit,
 * no queue. Prints one JSON line: the CPU per segment and per call, in milliseconds.
 * Usage (environment of the harness's world): node --import tsx bench/segment-calls-child.ts <segments>
 */
import { createHash } from 'node:crypto';
import { Agent, get } from 'node:http';
import { loadConfig } from '../src/config';
import { discoveryScope } from '../src/domain/consumer-drift';
import { createLogger } from '../src/logger';
import { buildServices } from '../src/wiring';

const IN_FLIGHT = 16;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** `n` calls of `f` (on indexes from `from`), IN_FLIGHT at a time; the CPU per call. */
async function perCall(from: number, n: number, f: (i: number) => Promise<unknown>): Promise<number> {
  let next = from;
  const end = from + n;
  const c0 = cpuMs();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < end) await f(next++);
    }),
  );
  return (cpuMs() - c0) / n;
}

async function main(): Promise<void> {
  const segments = Number(process.argv[2] ?? 100);
  const config = loadConfig(process.env);
  const services = buildServices(config, createLogger('error'));
  const worker = await services.worker();
  const specs = [...config.catalog.credentials.values()];
  const spec = (i: number) => specs[i % specs.length]!;
  const ref = (i: number) => spec(i).consumers.find((c) => c.kubernetes)!.kubernetes!;
  const { store } = services;
  const { deployer } = worker;

  // Discovery as check-dependencies asks for it. The namespace's watch answers it after the first
  // list, and the deployment it remembers lets the restart go out as one PATCH (else kubectl's read
  // comes first).
  const discover = (i: number) => deployer.discover(spec(i).kubernetesSecret!, discoveryScope(spec(i)));
  // What check-dependencies, generate, store-new and deploy call for a credential with one restarted
  // consumer whose store holds no previous key (the seeded crm copies): the discovery and one read
  // of the store (store-new and the orphan sweep reuse it), the new key and the listing that finds
  // its twins, the write, the force-sync, one look at the synced Secret (more under load), the
  // restart. Seven requests; the rollouts the restarts start also send the watch their events.
  const segment = async (i: number) => {
    const s = spec(i);
    await discover(i);
    const current = (await store.read(s.store))!;
    const issuer = worker.issuerFor(s);
    const created = await issuer.create(`rotator/${s.name}/segment-${i}`);
    await issuer.list();
    await store.write(
      s.store,
      {
        value: created.value,
        keyId: created.keyId,
        previousValue: current.value,
        ...(current.keyId ? { previousKeyId: current.keyId } : {}),
        rotatedAt: new Date().toISOString(),
        rotatedBy: 'bench',
      },
      current.version,
    );
    const { namespace, externalSecret } = ref(i);
    const since = new Date();
    await deployer.forceSync(namespace, externalSecret!, since);
    const digest = createHash('sha256').update(created.value.reveal()).digest('hex');
    await deployer.synced(namespace, externalSecret!, since, digest);
    await deployer.restart(ref(i), new Date());
  };

  const pause = () => new Promise((r) => setTimeout(r, 500));
  // The namespace's watch, as a worker has it after its first rotation there: discovery's list,
  // which the rollout wait's watch starts from; later discoveries read the watch's cache.
  await discover(0);
  await deployer.rolloutsSettled?.([ref(0)], 500);
  await pause();
  await perCall(0, 20, segment); // warm-up: JIT, connections, lazily loaded modules
  await pause();
  const segmentMs = await perCall(20, segments, segment);
  await pause();

  // Each call alone, on the credentials the segments above left (their keys, their versions).
  const base = 20;
  const calls: Record<string, number> = {};
  const each = async (name: string, f: (i: number) => Promise<unknown>) => {
    await perCall(base, 10, f);
    calls[name] = await perCall(base, segments, f);
    await pause();
  };
  await each('vaultRead', (i) => store.read(spec(i).store));
  // Before the creates below add a hundred keys to the account's list.
  await each('issuerList', (i) => worker.issuerFor(spec(i)).list());
  await each('issuerCreate', (i) => worker.issuerFor(spec(i)).create(`rotator/${spec(i).name}/alone-${i}`));
  await each('forceSync', (i) => deployer.forceSync(ref(i).namespace, ref(i).externalSecret!, new Date()));
  await each('synced', (i) =>
    deployer.synced(ref(i).namespace, ref(i).externalSecret!, new Date(0), '0'.repeat(64)),
  );
  // With the discovery (from the watch's cache) that lets it go out as one PATCH.
  await each('restart', async (i) => {
    await discover(i);
    await deployer.restart(ref(i), new Date());
  });
  // The transport alone: a keep-alive GET of the issuer's key list with node:http, no client above it.
  const issuer = specs[0]!.issuer;
  if (issuer.kind !== 'rest_api_key') throw new Error('the bench credentials are rest_api_key ones');
  const agent = new Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  await each(
    'rawHttpList',
    () =>
      new Promise<void>((resolve, reject) => {
        const req = get(
          `${issuer.baseUrl}/v1/api-keys`,
          { agent, headers: { authorization: `Bearer ${issuer.adminToken.reveal()}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
      }),
  );
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ segmentMs, calls })}\n`);
  await worker.close();
  await services.close();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error((e as Error).stack ?? e);
    process.exit(1);
  },
);
