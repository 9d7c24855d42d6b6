import { createHmac, randomBytes } from 'node:crypto';

/** Slack's request signature: v0= + hex HMAC-SHA256(secret, `v0:${timestamp}:${rawBody}`). */
export function slackSignature(signingSecret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

export interface SignedPostOptions {
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Default exactly application/x-www-form-urlencoded, as Slack sends (Bolt rejects anything else). */
  contentType?: string;
  /** Overrides the computed signature (to test rejection). */
  signature?: string;
  /** Extra headers, e.g. Slack's `X-Slack-Retry-Num` on a redelivery. */
  headers?: Record<string, string>;
}

export interface SignedResponse {
  status: number;
  body: string;
}

/** POSTs a form body to a Bolt endpoint the way Slack does. */
export async function postSigned(
  url: string,
  signingSecret: string,
  rawBody: string,
  opts: SignedPostOptions = {},
): Promise<SignedResponse> {
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'Content-Type': opts.contentType ?? 'application/x-www-form-urlencoded',
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': opts.signature ?? slackSignature(signingSecret, timestamp, rawBody),
      ...opts.headers,
    },
    body: rawBody,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.text() };
}

export interface SlashCommandInput {
  text: string;
  user: string;
  channel?: string;
  channelName?: string;
  responseUrl: string;
  command?: string;
  teamId?: string;
  /** Slack's id of this invocation; a retry repeats it. Unique by default. */
  triggerId?: string;
}

/** Unique like Slack's ("13345224609.738474920.8088930838d88f008e0"): two commands never share one. */
const newTriggerId = () => `${Date.now()}.${randomBytes(10).toString('hex')}`;

/** A slash command body with Slack's documented fields. */
export function slashCommandBody(c: SlashCommandInput): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: c.teamId ?? 'T_SANDBOX',
    team_domain: 'sandbox',
    channel_id: c.channel ?? 'C_PLATFORM',
    channel_name: c.channelName ?? 'platform',
    user_id: c.user,
    user_name: c.user.toLowerCase(),
    command: c.command ?? '/rotate',
    text: c.text,
    api_app_id: 'A_ROTATOR',
    is_enterprise_install: 'false',
    response_url: c.responseUrl,
    trigger_id: c.triggerId ?? newTriggerId(),
  }).toString();
}

export interface BlockActionInput {
  actionId: string;
  value: string;
  user: string;
  channel?: string;
  messageTs: string;
  blocks?: unknown[];
  responseUrl: string;
  teamId?: string;
}

/** A block_actions interaction: `payload=<urlencoded JSON>`. */
export function blockActionBody(a: BlockActionInput): string {
  const channel = a.channel ?? 'C_PLATFORM';
  const payload = {
    type: 'block_actions',
    team: { id: a.teamId ?? 'T_SANDBOX', domain: 'sandbox' },
    user: {
      id: a.user,
      username: a.user.toLowerCase(),
      name: a.user.toLowerCase(),
      team_id: a.teamId ?? 'T_SANDBOX',
    },
    api_app_id: 'A_ROTATOR',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: a.messageTs, channel_id: channel, is_ephemeral: false },
    trigger_id: newTriggerId(),
    channel: { id: channel, name: 'platform' },
    message: { type: 'message', user: 'U_ROTATOR', ts: a.messageTs, text: 'plan', blocks: a.blocks ?? [] },
    response_url: a.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: a.actionId,
        block_id: 'plan_decision',
        value: a.value,
        text: { type: 'plain_text', text: a.actionId },
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface AppMentionInput {
  user: string;
  /** As Slack sends it, the bot's mention token included: `<@U_ROTATOR> compromised …`. */
  text: string;
  channel?: string;
  threadTs?: string;
  teamId?: string;
  /** The bot user Slack authorised the event for (auth.test's user_id). */
  botUserId?: string;
  /** Slack's id of this delivery; a retry repeats it. Unique by default. */
  eventId?: string;
}

/** Events API bodies are JSON (unlike commands and interactions): post them with this type. */
export const EVENT_CONTENT_TYPE = 'application/json';

/** Slack's documented `event_callback` envelope around one event. */
function eventCallback(
  event: Record<string, unknown>,
  m: { teamId?: string; botUserId?: string; eventId?: string },
): string {
  const teamId = m.teamId ?? 'T_SANDBOX';
  return JSON.stringify({
    token: 'deprecated-verification-token',
    team_id: teamId,
    api_app_id: 'A_ROTATOR',
    event,
    type: 'event_callback',
    event_id: m.eventId ?? `Ev${randomBytes(6).toString('hex').toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: teamId,
        user_id: m.botUserId ?? 'U_ROTATOR',
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
  });
}

/** An Events API `event_callback` carrying an `app_mention`. */
export function appMentionBody(m: AppMentionInput): string {
  const ts = (Date.now() / 1000).toFixed(6);
  return eventCallback(
    {
      type: 'app_mention',
      user: m.user,
      text: m.text,
      ts,
      channel: m.channel ?? 'C_INC_2024_0042',
      event_ts: ts,
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    },
    m,
  );
}

/** An `app_home_opened` event (the user opened the app's Home tab, or its Messages tab). */
export function appHomeOpenedBody(m: { user: string; tab?: 'home' | 'messages'; eventId?: string }): string {
  return eventCallback(
    {
      type: 'app_home_opened',
      user: m.user,
      channel: 'D_ROTATOR_HOME',
      tab: m.tab ?? 'home',
      event_ts: (Date.now() / 1000).toFixed(6),
    },
    m,
  );
}
