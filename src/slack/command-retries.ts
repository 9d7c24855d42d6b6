import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Redis } from 'ioredis';
import { setImmediate as yieldToIo } from 'node:timers/promises';
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

/** Where the middleware leaves a slash command's claim for its listener (Bolt shares `context`). */
const CLAIM = 'deliveryClaim';

/**
 * The claim of `triggerId`, bounded by CLAIM_TIMEOUT_MS: when the log cannot answer in time (or at
 * all) the delivery counts as the first, since a rare duplicate plan (whose approval is still
 * exactly-once) is better than a lost command.
 */
function claimInTime(log: DeliveryLog, delivery: string, logger: PinoLogger): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), CLAIM_TIMEOUT_MS);
  });
  return Promise.race([log.claim(delivery), timeout])
    .catch((e: unknown) => {
      logger.warn({ err: (e as Error).message }, 'slash-command delivery log unavailable; processing');
      return true;
    })
    .finally(() => clearTimeout(timer));
}

/**
 * Bolt global middleware: a slash command (or event) Slack sends again (a retry carries the same
 * trigger_id and `X-Slack-Retry-Num`) is acked and otherwise ignored, so one /rotate never posts
 * two plans. An event was acked by Bolt before any middleware, so its claim is awaited here; a
 * slash command's ack must not wait on Redis, so its listener makes the claim after acking
 * (`isFirstDelivery`).
 */
export function ignoreCommandRetries(log: DeliveryLog, logger: PinoLogger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const delivery = deliveryIdOf(args.body);
    if (delivery === undefined) return args.next();
    let first: Promise<boolean> | undefined;
    // Made once, however often it is asked.
    const claim = () =>
      (first ??= claimInTime(log, delivery, logger).then((yes) => {
        if (!yes) logger.info({ delivery, retryNum: args.context.retryNum }, 'Slack retry ignored');
        return yes;
      }));
    if (delivery.startsWith('event:')) {
      if (await claim()) await args.next();
      return;
    }
    args.context[CLAIM] = claim;
    await args.next();
  };
}

/**
 * For a slash-command listener, after its ack: false when this delivery is a retry Slack sent of a
 * command already taken (then the listener does nothing more). True when no claim was made.
 *
 * It first yields to the event loop (setImmediate): under a burst, the commands whose requests
 * have already arrived are read and acked before any of them starts its work (the claim, the
 * queue), which would otherwise run between those reads and hold the later acks back.
 */
export async function isFirstDelivery(context: Record<string, unknown>): Promise<boolean> {
  await yieldToIo();
  const claim = context[CLAIM] as (() => Promise<boolean>) | undefined;
  return claim ? claim() : true;
}
