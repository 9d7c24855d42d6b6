import { createHmac, randomBytes } from 'node:crypto';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver } from '@slack/bolt';
import type { RetryOptions } from '@slack/web-api';
import type { Logger as PinoLogger } from 'pino';
import type { CommandDeps } from './command-deps';
import { slackLogger } from '../adapters/chat/slack-logger';
import { webClientOptions } from '../adapters/chat/web-client';
import type { AccessPolicy } from '../domain/access';
import { RotatorError } from '../domain/errors';
import type { AuditLog } from '../domain/ports';
import type { RotationRequests } from '../procedures/types';
import { ApprovalStore, type ApprovalStoreOptions } from './approvals';
import { EmergencyRequestStore } from './emergency-requests';
import { ReviewStore } from './reviews';
import type { Reminders } from './reminders';
import { Authorization, slackGroupMembers } from './authorization';
import { ignoreCommandRetries, RedisDeliveryLog, type DeliveryLog } from './command-retries';
import { errorHandler } from './error-handler';
import { answerMalformedWith400, requireActor } from './request-guards';

export const EVENTS_PATH = '/slack/events';

export interface SlackAppDeps {
  /** Registers the listeners (commands/index.ts): passed in so src/slack never imports commands/. */
  register: (app: App, deps: CommandDeps) => void;
  signingSecret: string;
  botToken: string;
  /** SLACK_APP_TOKEN: when set, Socket Mode instead of the HTTP receiver. */
  appToken?: string;
  /** SLACK_API_URL: the Web API base (the sandbox's Slack double). */
  slackApiUrl?: string;
  /** HTTP port; 0 picks a free one (see `port()` after start). */
  port: number;
  logger: PinoLogger;
  requests: RotationRequests;
  /** Digests for `/rotate due`, and Snooze. */
  reminders: Reminders;
  access: AccessPolicy;
  /** A store, or its options (then `approvalTtlMs` and `now` apply). */
  approvals: ApprovalStore | Omit<ApprovalStoreOptions, 'ttlMs' | 'now'>;
  audit: AuditLog;
  approvalTtlMs?: number;
  /** INCIDENT_CHANNEL_PATTERN (default ^inc-). */
  incidentChannelPattern?: RegExp;
  /** How long an emergency's scope message can be acted on (default 15 min). */
  emergencyTtlMs?: number;
  /** Schedules the close of an undecided plan at its expiry (a delayed job on the approvals queue). */
  scheduleExpiry?: (requestId: string, atMs: number) => Promise<void>;
  /** Slash-command deliveries seen (retry dedupe); defaults to Redis beside the approvals. */
  deliveries?: DeliveryLog;
  /** Retries closing an approved plan later when Slack refused the edit (a delayed job). */
  scheduleClose?: (requestId: string, line: string) => Promise<void>;
  /** Manual rotations' Stored / Revoked clicks. */
  manual?: CommandDeps['manual'];
  /** Enqueues an approver's reactivation of a deactivated old key (AWS). */
  reactivateOldKey?: CommandDeps['reactivateOldKey'];
  /** The Web API client's retry policy (default SLACK_RETRY); tests shorten it. */
  slackRetry?: RetryOptions;
  /** How long user-group membership is cached (default 60 s). */
  groupCacheMs?: number;
  /** Hands `/rotate`'s slow work to the workers (the `slack-requests` queue); absent, it runs here. */
  enqueueRequest?: CommandDeps['enqueueRequest'];
  now?: () => Date;
}

export interface SlackApp {
  app: App;
  approvals: ApprovalStore;
  emergencies: EmergencyRequestStore;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The HTTP port actually listened on (HTTP mode, after start). */
  port(): number | undefined;
}

/** The Bolt app: HTTP receiver at POST /slack/events (signatures verified) or Socket Mode. */
export function createSlackApp(deps: SlackAppDeps): SlackApp {
  const now = deps.now ?? (() => new Date());
  const logger = slackLogger(deps.logger, 'bolt');
  const clientOptions = webClientOptions({
    ...(deps.slackApiUrl ? { slackApiUrl: deps.slackApiUrl } : {}),
    ...(deps.slackRetry ? { retryConfig: deps.slackRetry } : {}),
    logger: deps.logger,
  });
  // auth.test runs in start() (app.init), where a failure is an error instead of an unhandled rejection.
  const common = {
    token: deps.botToken,
    logger,
    clientOptions,
    extendedErrorHandler: true,
    deferInitialization: true,
  };
  const receiver = deps.appToken
    ? undefined
    : new HTTPReceiver({
        signingSecret: deps.signingSecret,
        endpoints: EVENTS_PATH,
        signatureVerification: true,
        processBeforeResponse: false,
        processEventErrorHandler: answerMalformedWith400,
        logger,
      });
  const app = receiver
    ? new App({ ...common, receiver })
    : new App({ ...common, appToken: deps.appToken!, socketMode: true, signingSecret: deps.signingSecret });

  const approvals =
    deps.approvals instanceof ApprovalStore
      ? deps.approvals
      : new ApprovalStore({
          ...deps.approvals,
          ...(deps.approvalTtlMs ? { ttlMs: deps.approvalTtlMs } : {}),
          now,
        });
  const redisOf = (what: string) => {
    if (deps.approvals instanceof ApprovalStore)
      throw new RotatorError(
        'config_invalid',
        `createSlackApp needs the approvals' Redis options for ${what}`,
      );
    return { redis: deps.approvals.redis, prefix: deps.approvals.prefix ?? 'rotator:' };
  };
  const emergencyRedis = redisOf('emergency requests and reviews');
  const emergencies = new EmergencyRequestStore({
    ...emergencyRedis,
    ...(deps.emergencyTtlMs ? { ttlMs: deps.emergencyTtlMs } : {}),
    now,
  });
  const reviews = new ReviewStore(emergencyRedis.redis, emergencyRedis.prefix, now);
  const authorization = new Authorization({
    access: deps.access,
    groups: slackGroupMembers(app.client),
    ...(deps.groupCacheMs !== undefined ? { cacheMs: deps.groupCacheMs } : {}),
  });
  // Before any listener: a body without its acting user is refused (HTTP 400), then a slash
  // command Slack retried is acked and dropped.
  app.use(requireActor);
  const deliveries =
    deps.deliveries ??
    (deps.approvals instanceof ApprovalStore
      ? undefined
      : new RedisDeliveryLog(deps.approvals.redis, deps.approvals.prefix ?? 'rotator:'));
  if (deliveries) app.use(ignoreCommandRetries(deliveries, deps.logger));
  deps.register(app, {
    requests: deps.requests,
    authorization,
    approvals,
    emergencies,
    reviews,
    reminders: deps.reminders,
    incidentChannelPattern: deps.incidentChannelPattern ?? /^inc-/,
    audit: deps.audit,
    logger: deps.logger,
    now,
    ...(deps.enqueueRequest ? { enqueueRequest: deps.enqueueRequest } : {}),
    ...(deps.scheduleExpiry ? { scheduleExpiry: deps.scheduleExpiry } : {}),
    ...(deps.scheduleClose ? { scheduleClose: deps.scheduleClose } : {}),
    ...(deps.manual ? { manual: deps.manual } : {}),
    ...(deps.reactivateOldKey ? { reactivateOldKey: deps.reactivateOldKey } : {}),
  });

  app.error(errorHandler(() => app.client, deps.logger));

  let server: Server | undefined;
  return {
    app,
    approvals,
    emergencies,
    async start() {
      await app.init();
      const started: unknown = await app.start(deps.port);
      if (receiver) {
        server = started as Server;
        await selfCheck(this.port()!, deps.signingSecret);
      }
      deps.logger.info({ port: this.port(), socketMode: !receiver }, 'Slack app started');
    },
    async stop() {
      server?.closeAllConnections();
      await app.stop();
      server = undefined;
    },
    port() {
      const addr = server?.address();
      return addr && typeof addr === 'object' ? (addr as AddressInfo).port : undefined;
    },
  };
}

/**
 * One signed request to our own endpoint before the app counts as started: Slack's URL
 * verification, form-encoded as slash commands are, which Bolt answers itself (no listener runs,
 * nothing is written). It proves the receiver answers signed requests, and the first commands after
 * a start no longer pay for compiling the request path (body reading, signature check, form
 * parsing, the answer) while a burst waits behind them.
 */
function selfCheck(port: number, signingSecret: string): Promise<void> {
  const challenge = randomBytes(8).toString('hex');
  const body = new URLSearchParams({ type: 'url_verification', challenge }).toString();
  const timestamp = Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: EVENTS_PATH,
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
          'x-slack-request-timestamp': String(timestamp),
          'x-slack-signature': signature,
        },
        timeout: 5_000,
      },
      (res) => {
        let answer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (answer += chunk));
        res.on('end', () =>
          res.statusCode === 200 && answer.includes(challenge)
            ? resolve()
            : reject(
                new RotatorError(
                  'config_invalid',
                  `the Slack endpoint failed its self-check (HTTP ${res.statusCode})`,
                ),
              ),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) =>
      reject(new RotatorError('config_invalid', `the Slack endpoint failed its self-check: ${e.message}`)),
    );
    req.end(body);
  });
}
