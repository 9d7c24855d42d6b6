import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver } from '@slack/bolt';
import type { Logger as PinoLogger } from 'pino';
import type { CommandDeps } from './command-deps';
import { slackLogger } from '../adapters/chat/slack-logger';
import { webClientOptions } from '../adapters/chat/web-client';
import type { AccessPolicy } from '../domain/access';
import { isRotatorError } from '../domain/errors';
import type { AuditLog } from '../domain/ports';
import type { RotationRequests } from '../procedures/types';
import { ApprovalStore, type ApprovalStoreOptions } from './approvals';
import { Authorization, slackGroupMembers } from './authorization';
import { ignoreCommandRetries, RedisDeliveryLog, type DeliveryLog } from './command-retries';
import { answerMalformedWith400, MalformedRequestError, requireActor } from './request-guards';
import { replyEphemeral, targetOf } from './reply';
import { errorView } from './views';

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
  access: AccessPolicy;
  /** A store, or its options (then `approvalTtlMs` and `now` apply). */
  approvals: ApprovalStore | Omit<ApprovalStoreOptions, 'ttlMs' | 'now'>;
  audit: AuditLog;
  approvalTtlMs?: number;
  /** Schedules the close of an undecided plan at its expiry (a delayed job on the approvals queue). */
  scheduleExpiry?: (requestId: string, atMs: number) => Promise<void>;
  /** Slash-command deliveries seen (retry dedupe); defaults to Redis beside the approvals. */
  deliveries?: DeliveryLog;
  /** How long user-group membership is cached (default 60 s). */
  groupCacheMs?: number;
  now?: () => Date;
}

export interface SlackApp {
  app: App;
  approvals: ApprovalStore;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The HTTP port actually listened on (HTTP mode, after start). */
  port(): number | undefined;
}

/** The original error behind Bolt's wrappers (UnknownError.original, MultipleListenerError.originals). */
function unwrap(e: unknown): unknown {
  const w = e as { original?: unknown; originals?: unknown[] };
  if (w.originals?.length) return unwrap(w.originals[0]);
  return w.original !== undefined ? unwrap(w.original) : e;
}

/** The Bolt app: HTTP receiver at POST /slack/events (signatures verified) or Socket Mode. */
export function createSlackApp(deps: SlackAppDeps): SlackApp {
  const now = deps.now ?? (() => new Date());
  const logger = slackLogger(deps.logger, 'bolt');
  const clientOptions = webClientOptions({
    ...(deps.slackApiUrl ? { slackApiUrl: deps.slackApiUrl } : {}),
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
    audit: deps.audit,
    logger: deps.logger,
    now,
    ...(deps.scheduleExpiry ? { scheduleExpiry: deps.scheduleExpiry } : {}),
  });

  // The one error handler: a coded error becomes an ephemeral message with the runbook hint;
  // anything else a generic line. Never a stack trace or a value in Slack.
  app.error(async ({ error, body }: { error: Error; body: unknown }) => {
    const original = unwrap(error);
    // Back to the receiver, which answers 400: nobody to tell, nothing to handle.
    if (original instanceof MalformedRequestError) throw original;
    if (isRotatorError(original))
      deps.logger.warn({ code: original.code, context: original.context }, original.message);
    else deps.logger.error({ err: original }, 'Slack listener failed');
    const target = targetOf(body);
    if (!target) return;
    await replyEphemeral(app.client, target, errorView(original)).catch((e: unknown) =>
      deps.logger.warn({ err: e }, 'could not tell the user about an error'),
    );
  });

  let server: Server | undefined;
  return {
    app,
    approvals,
    async start() {
      await app.init();
      const started: unknown = await app.start(deps.port);
      if (receiver) server = started as Server;
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
