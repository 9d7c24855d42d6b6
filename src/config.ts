import { z } from 'zod';
import { loadCatalog, type Catalog } from './catalog';
import { RotatorError } from './domain/errors';
import { cronProblem, timeZoneProblem } from './queue/reminder-schedule';

/** The only place that reads process.env (DESIGN: src/config.ts). */
const envSchema = z.object({
  SLACK_SIGNING_SECRET: z.string().min(1, 'is required'),
  SLACK_BOT_TOKEN: z.string().regex(/^xoxb-/, 'must be a bot token (xoxb-…)'),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, 'must be an app-level token (xapp-…)')
    .optional(),
  SLACK_API_URL: z.url().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:{}_-]+$/)
    .default('rotator'),
  VAULT_ADDR: z.url(),
  VAULT_TOKEN: z.string().min(1, 'is required'),
  VAULT_KV_MOUNT: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/)
    .default('secret'),
  KUBECONFIG: z.string().min(1).optional(),
  /** A Vault file audit device's log (JSON lines): emergencies list the recent operations on the path. */
  VAULT_AUDIT_LOG: z.string().min(1).optional(),
  /** The escalation deadline of an "immediate" emergency (API keys, OAuth secrets, tokens). */
  EMERGENCY_IMMEDIATE_MINUTES: z.coerce.number().int().min(1).max(240).default(15),
  AWS_REGION: z.string().default('us-east-1'),
  AWS_ENDPOINT_URL_IAM: z.url().optional(),
  CATALOG_PATH: z.string().min(1).default('credentials.yaml'),
  /**
   * The weekly digest's schedule, checked in REMINDER_TZ by the cron parser BullMQ schedules with
   * (below), by the roles that schedule it.
   */
  REMINDER_CRON: z.string().default('0 9 * * 1'),
  REMINDER_TZ: z.string().default('UTC'),
  SECURITY_CHANNEL: z.string().min(1).default('security-notifications'),
  INCIDENT_CHANNEL_PATTERN: z
    .string()
    .default('^inc-')
    .refine((s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    }, 'must be a regular expression'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DUE_SOON_DAYS: z.coerce.number().int().min(1).max(90).default(14),
  // Fractions allowed (0.5 = 30 s), which the tests use to watch a request expire.
  APPROVAL_TTL_MINUTES: z.coerce
    .number()
    .positive()
    .max(24 * 60)
    .default(60),
  OLD_KEY_QUIET_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  REVOCATION_PROPAGATION_SECONDS: z.coerce.number().int().min(0).max(3600).default(900),
  ROLLOUT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(600),
  ROLLBACK_BUDGET_SECONDS: z.coerce.number().int().min(60).max(3600).default(900),
  POLL_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(5000),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** The web role's `/rotate` work after the ack (plans, status), run at once at most. */
  SLACK_WORK_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  /** Vault reads in flight at once while the inventory is built (npm run inventory, App Home, due list). */
  INVENTORY_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(64),
  /** BullMQ lock duration and stalled-check interval: how soon a dead worker's run is resumed. */
  WORKER_LOCK_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  /** How often Vault is compared with the run records to find half-rotations nobody is finishing. */
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(5).max(86_400).default(300),
  /**
   * Run on a Redis that keeps nothing on disk or evicts keys (runs, locks and the audit stream
   * would be lost on restart). For the demo and tests; production refuses to start without it.
   */
  ALLOW_EPHEMERAL_REDIS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  env: Env;
  catalog: Catalog;
}

export interface ConfigOptions {
  /**
   * Check REMINDER_CRON and REMINDER_TZ (default true): the roles that schedule the digest refuse
   * to start without a schedule BullMQ can run. The web role never schedules it and skips the
   * check, which is most of its start-up cost: the first time-zone lookup loads the ICU data
   * (≈8 MB resident, 20–45 ms), and the cron parser its own time-zone library.
   */
  schedule?: boolean;
}

/** Validates the environment; every problem in one RotatorError('config_invalid'). */
export function parseEnv(env: Record<string, string | undefined>, opts: ConfigOptions = {}): Env {
  return validated(opts.schedule === false ? envSchema : withSchedule, env);
}

/** REMINDER_CRON parsed in REMINDER_TZ, as BullMQ will; an unknown zone is REMINDER_TZ's problem alone. */
const withSchedule = envSchema.superRefine((e, ctx) => {
  const zone = timeZoneProblem(e.REMINDER_TZ);
  if (zone) {
    ctx.addIssue({ code: 'custom', path: ['REMINDER_TZ'], message: zone });
    return;
  }
  const p = cronProblem(e.REMINDER_CRON, e.REMINDER_TZ);
  if (p) ctx.addIssue({ code: 'custom', path: ['REMINDER_CRON'], message: p });
});

function validated<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.infer<S> {
  // Empty strings count as unset, as in most shells' `VAR=` usage.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`);
    throw new RotatorError('config_invalid', `configuration is invalid:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** What `npm run inventory` needs: Vault, the catalog and (optionally) the cluster. No Slack, no Redis. */
const inventoryEnvSchema = envSchema.pick({
  VAULT_ADDR: true,
  VAULT_TOKEN: true,
  VAULT_KV_MOUNT: true,
  KUBECONFIG: true,
  CATALOG_PATH: true,
  DUE_SOON_DAYS: true,
  INVENTORY_CONCURRENCY: true,
});
export type InventoryEnv = z.infer<typeof inventoryEnvSchema>;

/** The inventory CLI's configuration; the catalog is loaded without the issuers' admin tokens. */
export function loadInventoryConfig(env: Record<string, string | undefined> = process.env): {
  env: InventoryEnv;
  catalog: Catalog;
} {
  const parsed = validated(inventoryEnvSchema, env);
  return { env: parsed, catalog: loadCatalog(parsed.CATALOG_PATH, env, { issuerTokens: 'optional' }) };
}

export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  opts: ConfigOptions = {},
): Config {
  const parsed = parseEnv(env, opts);
  return { env: parsed, catalog: loadCatalog(parsed.CATALOG_PATH, env) };
}
