/**
 * `npm run demo`: every double plus the bot (web and worker roles in one process), seeded with the
 * runbook's credentials and consumers. Needs only a Redis: REDIS_URL, or one answering on the default
 * port, or a redis-server on PATH that the demo starts (and stops). Prints one JSON line
 * {"sandbox":"ready", …} with what each double's own client needs (tokens, kubeconfig, CA, Vault's
 * audit log) and writes the same to .demo/sandbox.json for `npm run slack`, kubectl and curl.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import IORedis from 'ioredis';
import pino from 'pino';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { startRole } from '../src/main';
import { DemoSetupError, ensureRedis } from './demo-redis';
import { SERVERS } from './databases/logins';
import { demoDatabaseCredentials, isDatabaseIssuer } from './databases/seed';
import { startWorld } from './world';

const PREFIX = 'rotator';
const MARKER = `${PREFIX}:sandbox-demo`;

/** The demo owns the default prefix: it clears what an earlier demo left, and nothing else. */
async function claimRedis(url: string): Promise<void> {
  const redis = new IORedis(url, { maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: () => null });
  // A failed connect rejects connect(); the 'error' event would only repeat it, unhandled.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const [, keys] = await redis.scan('0', 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
    if (keys.length > 0 && !(await redis.exists(MARKER))) {
      throw new DemoSetupError(
        `${url} already holds "${PREFIX}:" keys that a demo did not write; point REDIS_URL at a scratch database (e.g. redis://127.0.0.1:6379/15)`,
      );
    }
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${PREFIX}:*`, 'COUNT', 1000);
      cursor = next;
      if (batch.length > 0) await redis.del(...batch);
    } while (cursor !== '0');
    await redis.set(MARKER, new Date().toISOString());
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const dir = resolve(process.env.DEMO_DIR || '.demo');
  const redis = await ensureRedis({ ...(process.env.REDIS_URL ? { url: process.env.REDIS_URL } : {}), dir });
  const stopRedis = () => redis.stop();
  process.once('exit', () => void stopRedis());
  const redisUrl = redis.url;
  await claimRedis(redisUrl).catch(async (e: unknown) => {
    await stopRedis();
    throw e;
  });
  const world = await startWorld({
    dir,
    redisUrl,
    queuePrefix: PREFIX,
    rolloutDelayMs: 1500,
    // A PostgreSQL single-user password and a MariaDB alternating-users pair, in the local servers.
    editCatalog: (c) => c.credentials.push(...(demoDatabaseCredentials() as never[])),
  });
  const env: Record<string, string> = {
    ...world.env,
    PORT: process.env.PORT || '3000',
    LOG_LEVEL: process.env.LOG_LEVEL || 'info',
    POLL_INTERVAL_MS: '1000',
    REVOCATION_PROPAGATION_SECONDS: '60',
    OLD_KEY_QUIET_SECONDS: '5',
    // REMINDER_CRON='* * * * *' npm run demo: a digest per channel within a minute.
    ...(process.env.REMINDER_CRON ? { REMINDER_CRON: process.env.REMINDER_CRON } : {}),
    ...(process.env.REMINDER_TZ ? { REMINDER_TZ: process.env.REMINDER_TZ } : {}),
  };
  const config = loadConfig(env);
  // Logs go to stderr so stdout carries just the ready line.
  const logger = createLogger(config.env.LOG_LEVEL, pino.destination(2));
  const running = await startRole('all', config, logger, { settings: { verifyGraceMs: 5000 } });
  const port = running.slack?.port();
  const info = {
    sandbox: 'ready',
    slackEvents: `http://127.0.0.1:${port}/slack/events`,
    slackSigningSecret: config.env.SLACK_SIGNING_SECRET,
    slackApi: world.slack.url,
    slackCalls: `${world.slack.origin}/_calls`,
    slackBotToken: config.env.SLACK_BOT_TOKEN,
    vault: world.vault.url,
    vaultToken: config.env.VAULT_TOKEN,
    vaultAuditLog: world.files.vaultAuditLog,
    kubernetes: world.kubernetes.url,
    kubeconfig: world.files.kubeconfig,
    kubernetesCa: world.files.kubernetesCa,
    provider: world.provider.url,
    oauth: world.oauth.url,
    providerAdminTokens: Object.fromEntries(
      world.catalog.credentials
        // Database and IAM issuers name no admin token (their admins log in otherwise).
        .filter((c) => c.issuer.adminTokenEnv)
        .map((c) => [c.issuer.adminTokenEnv, world.env[c.issuer.adminTokenEnv!] ?? '']),
    ),
    databases: Object.fromEntries(
      world.catalog.credentials
        .filter((c) => isDatabaseIssuer(c.issuer))
        .map((c) => {
          const i = c.issuer as unknown as {
            kind: 'postgres' | 'mariadb';
            strategy: string;
            users: string[];
          };
          return [
            c.name,
            { server: i.kind, ...SERVERS[i.kind], strategy: i.strategy, users: i.users, store: c.store },
          ];
        }),
    ),
    // AWS IAM: what the AWS CLI needs (--endpoint-url, the admin key, region us-east-1).
    iam: world.iam.url,
    iamAdmin: {
      AWS_ACCESS_KEY_ID: world.iam.admin.accessKeyId,
      AWS_SECRET_ACCESS_KEY: world.iam.admin.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
    },
    apps: Object.fromEntries([...world.apps].map(([name, app]) => [name, app.url])),
    redis: redisUrl,
    redisStartedByDemo: redis.started,
    queuePrefix: PREFIX,
    catalog: config.env.CATALOG_PATH,
    credentials: world.catalog.credentials.map((c) => c.name),
    try: [
      'npm run rotate -- payment-gateway-api --dry-run',
      'npm run rotate -- payment-gateway-api',
      'npm run rotate -- orders-db',
      'npm run rotate -- reporting-db',
      "npm run slack -- '/rotate payment-gateway-api' --user U0ALICE",
      'npm run rotate -- integration-service-account',
      'npm run rotate -- reporting-sso-client',
      'npm run rotate -- partner-portal-key   # a person stores the key; then npm run slack -- stored <run-id>',
    ],
  };
  writeFileSync(join(dir, 'sandbox.json'), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  console.log(JSON.stringify(info));
  const stop = async () => {
    await running.stop();
    await world.close();
    await stopRedis();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((e: unknown) => {
  // A missing prerequisite is the user's to fix (exit 2, like a bad configuration); anything else is ours.
  if (e instanceof DemoSetupError) {
    console.error(e.message);
    process.exit(2);
  }
  console.error(`demo failed to start: ${(e as Error).message}`);
  process.exit(1);
});
