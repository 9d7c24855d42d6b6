import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Redis } from 'ioredis';
import type { Logger as PinoLogger } from 'pino';

/** Remembers which slash-command deliveries were seen, shared by every web replica. */
export interface DeliveryLog {
  /** True the first time `triggerId` is claimed; false for a retry of the same command. */
  claim(triggerId: string): Promise<boolean>;
}

/** SET NX EX in Redis: atomic across replicas, forgotten after `ttlSeconds`. */
export class RedisDeliveryLog implements DeliveryLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlSeconds = 3_600,
  ) {}

  async claim(triggerId: string): Promise<boolean> {
    const key = `${this.prefix}slack-trigger:${triggerId}`;
    return (await this.redis.set(key, '1', 'EX', this.ttlSeconds, 'NX')) === 'OK';
  }
}

/** Longest the claim may delay the ack: Slack wants one within 3 s and retries otherwise. */
const CLAIM_TIMEOUT_MS = 500;

/**
 * What identifies one delivery: a slash command's trigger_id, an Events API callback's event_id
 * (an `app_mention` Slack redelivers must not post a second emergency scope).
 */
function deliveryIdOf(body: unknown): string | undefined {
  const b = body as { command?: unknown; trigger_id?: unknown; type?: unknown; event_id?: unknown };
  if (typeof b.command === 'string' && typeof b.trigger_id === 'string') return b.trigger_id;
  if (b.type === 'event_callback' && typeof b.event_id === 'string') return `event:${b.event_id}`;
  return undefined;
}

/**
 * Bolt global middleware: a slash command (or event) Slack sends again (a retry carries the same trigger_id
 * and `X-Slack-Retry-Num`) is acked and otherwise ignored, so one /rotate never posts two plans.
 * When the log cannot answer in time the command is processed: a rare duplicate plan (whose
 * approval is still exactly-once) is better than a lost command.
 */
export function ignoreCommandRetries(log: DeliveryLog, logger: PinoLogger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const delivery = deliveryIdOf(args.body);
    if (delivery === undefined) return args.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CLAIM_TIMEOUT_MS);
    });
    const first = await Promise.race([log.claim(delivery), timeout])
      .catch((e: unknown) => {
        logger.warn({ err: (e as Error).message }, 'slash-command delivery log unavailable; processing');
        return true;
      })
      .finally(() => clearTimeout(timer));
    if (first === false) {
      logger.info({ delivery, retryNum: args.context.retryNum }, 'Slack retry ignored');
      const ack = (args as { ack?: () => Promise<void> }).ack;
      await ack?.();
      return;
    }
    await args.next();
  };
}
