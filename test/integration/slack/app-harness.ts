import { randomUUID } from 'node:crypto';
import IORedis, { type Redis } from 'ioredis';
import pino from 'pino';
import { createSlackDouble, type SlackCall, type SlackDouble } from '../../../sandbox/slack';
import { register } from '../../../commands';
import type { AccessPolicy } from '../../../src/domain/access';
import type { CredentialSpec } from '../../../src/domain/credential';
import { SnoozeStore } from '../../../src/queue/snooze-store';
import { createSlackApp, type SlackApp } from '../../../src/slack/app';
import type { CommandDeps } from '../../../src/slack/command-deps';
import { Reminders } from '../../../src/slack/reminders';
import { APPROVE_ACTION } from '../../../src/slack/views';
import { deletePrefix, testRedis } from '../../helpers/redis';
import { eventually } from '../../helpers/eventually';
import {
  appMentionBody,
  blockActionBody,
  EVENT_CONTENT_TYPE,
  postSigned,
  slashCommandBody,
} from '../../helpers/slack-signing';
import { FakeRequests, MemoryAudit, spec } from './fake-requests';

export const SECRET = 'test-signing-secret';
const TOKEN = 'xoxb-test-token';

/** The real Bolt app on an ephemeral port, a real Redis (own prefix), the Slack double, a fake engine. */
export interface AppHarness {
  double: SlackDouble;
  slack: SlackApp;
  requests: FakeRequests;
  audit: MemoryAudit;
  /** What the app asked to close later (CommandDeps.scheduleClose). */
  scheduledCloses: Array<{ requestId: string; line: string }>;
  endpoint: string;
  /** Moves the app's clock (approval expiry). */
  advance(ms: number): void;
  byMethod(method: string): SlackCall[];
  command(
    text: string,
    user?: string,
    where?: { channel: string; channelName: string },
  ): ReturnType<typeof postSigned>;
  /** An Events API app_mention of the bot (`<@U_ROTATOR> …` is prepended to `text`). */
  mention(text: string, user: string, channel: string): ReturnType<typeof postSigned>;
  click(
    actionId: string,
    id: string,
    ts: string,
    user: string,
    blocks?: unknown[],
    channel?: string,
  ): ReturnType<typeof postSigned>;
  requestPlan(name?: string): Promise<{
    id: string;
    ts: string;
    blocks: Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>;
  }>;
  close(): Promise<void>;
}

/** A client whose connection is gone: every command fails at once ("Connection is closed"). */
function deadRedis(): Redis {
  const dead = new IORedis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false });
  dead.disconnect();
  return dead;
}

export interface HarnessOptions {
  /** Approvals talk to a Redis that is not there (queue/Redis unavailable). */
  redisDown?: boolean;
  /** Replace the default access lists, user groups and credentials (e.g. a parsed catalog's). */
  access?: AccessPolicy;
  userGroups?: Record<string, string[]>;
  specs?: CredentialSpec[];
  incidentChannelPattern?: RegExp;
  /** `/rotate`'s slow work handed to this instead of done in the listener (the web role's queue). */
  enqueueRequest?: CommandDeps['enqueueRequest'];
}

export async function startHarness(opts: HarnessOptions = {}): Promise<AppHarness> {
  let clock = Date.now();
  const double = await createSlackDouble({
    botToken: TOKEN,
    userGroups: opts.userGroups ?? { SAPPROVERS1: ['U_CAROL'] },
  });
  const redis: Redis = testRedis();
  const approvalsRedis = opts.redisDown ? deadRedis() : redis;
  const prefix = `test-${randomUUID()}:`;
  const requests = new FakeRequests(
    opts.specs ?? [spec('payment-gateway-api'), spec('crm-integration'), spec('monitoring-service')],
  );
  const audit = new MemoryAudit();
  const appClock = { now: () => new Date(clock) };
  // Every credential last rotated 97 days ago, as FakeRequests ages them: all overdue.
  const reminders = new Reminders({
    loadInventory: () => requests.inventory(),
    snoozes: new SnoozeStore(redis, prefix),
    settings: { securityChannel: 'C_SECURITY', dueSoonDays: 14 },
    clock: appClock,
  });
  const scheduledCloses: AppHarness['scheduledCloses'] = [];
  const slack = createSlackApp({
    register,
    signingSecret: SECRET,
    botToken: TOKEN,
    slackApiUrl: double.url,
    port: 0,
    logger: pino({ level: 'silent' }),
    requests,
    reminders,
    access: opts.access ?? { requesters: [], approvers: ['U_BOB', 'SAPPROVERS1'], responders: [] },
    approvals: { redis: approvalsRedis, prefix },
    ...(opts.incidentChannelPattern ? { incidentChannelPattern: opts.incidentChannelPattern } : {}),
    ...(opts.enqueueRequest ? { enqueueRequest: opts.enqueueRequest } : {}),
    audit,
    now: () => new Date(clock),
    scheduleClose: async (requestId, line) => {
      scheduledCloses.push({ requestId, line });
    },
    // Slack trouble surfaces in a few seconds instead of the minute the product allows.
    slackRetry: { retries: 2, minTimeout: 10, maxTimeout: 50 },
  });
  await slack.start();
  const endpoint = `http://127.0.0.1:${slack.port()}/slack/events`;
  const byMethod = (m: string) => double.calls().filter((c) => c.method === m);
  const command = (text: string, user = 'U_ALICE', where?: { channel: string; channelName: string }) =>
    postSigned(
      endpoint,
      SECRET,
      slashCommandBody({
        text,
        user,
        responseUrl: double.responseUrl(`cmd-${user}`),
        ...(where ? { channel: where.channel, channelName: where.channelName } : {}),
      }),
    );
  let closing: Promise<void> | undefined;
  const h: AppHarness = {
    double,
    slack,
    requests,
    audit,
    scheduledCloses,
    endpoint,
    advance: (ms) => {
      clock += ms;
    },
    byMethod,
    command,
    mention: (text, user, channel) =>
      postSigned(endpoint, SECRET, appMentionBody({ user, channel, text: `<@U_ROTATOR> ${text}` }), {
        contentType: EVENT_CONTENT_TYPE,
      }),
    click: (actionId, id, ts, user, blocks = [], channel) =>
      postSigned(
        endpoint,
        SECRET,
        blockActionBody({
          actionId,
          value: id,
          user,
          messageTs: ts,
          blocks,
          responseUrl: double.responseUrl(`act-${user}`),
          ...(channel ? { channel } : {}),
        }),
      ),
    async requestPlan(name = 'payment-gateway-api') {
      const res = await command(name);
      if (res.status !== 200) throw new Error(`/rotate answered HTTP ${res.status}`);
      const post = await eventually(() => byMethod('chat.postMessage')[0]);
      const blocks = post.args.blocks as Awaited<ReturnType<AppHarness['requestPlan']>>['blocks'];
      const actions = blocks.find((b) => b.type === 'actions');
      const id = actions?.elements?.find((e) => e.action_id === APPROVE_ACTION)?.value ?? '';
      await eventually(async () => (await slack.approvals.get(id))?.messageTs);
      return { id, ts: double.messages('C_PLATFORM')[0]!.ts, blocks };
    },
    close() {
      // Idempotent: a test may close before asserting and afterEach closes again.
      closing ??= (async () => {
        // Let listeners that answer after the asserted call finish before the double goes away.
        let seen = -1;
        while (seen !== double.calls().length) {
          seen = double.calls().length;
          await new Promise((r) => setTimeout(r, 150));
        }
        await slack.stop();
        await double.close();
        await deletePrefix(redis, prefix);
        await redis.quit();
      })();
      return closing;
    },
  };
  return h;
}
