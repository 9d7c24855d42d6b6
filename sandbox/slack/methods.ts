import type { ChannelDef, Channels } from './channels';
import type { SlackState } from './state';
import { viewsOpen, viewsPublish } from './views';

export type Args = Record<string, unknown>;
export type Reply = Record<string, unknown> & { ok: boolean };

export interface MethodContext {
  state: SlackState;
  channels: Channels;
  /** The bot token's scopes (chat:write.public decides whether it may post where it is not a member). */
  scopes: readonly string[];
  teamId: string;
  botUserId: string;
  botId: string;
  userGroups: Record<string, string[]>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const fail = (error: string): Reply => ({ ok: false, error });

function hasContent(args: Args): boolean {
  const text = str(args.text);
  const blocks = args.blocks;
  return (text !== undefined && text !== '') || (Array.isArray(blocks) && blocks.length > 0);
}

function channelOf(args: Args): string | undefined {
  const channel = str(args.channel);
  return channel === undefined || channel.trim() === '' ? undefined : channel;
}

/** The channel a write goes to, or Slack's refusal: unknown, archived, or the bot is not in it. */
function writableChannel(ctx: MethodContext, args: Args): ChannelDef | Reply {
  const id = channelOf(args);
  const c = id ? ctx.channels.find(id) : undefined;
  if (!c) return fail('channel_not_found');
  const refusal = ctx.channels.refusal(c, ctx.scopes);
  return refusal ? fail(refusal) : c;
}

const isReply = (v: ChannelDef | Reply): v is Reply => 'ok' in v;

function postMessage(ctx: MethodContext, args: Args): Reply {
  const target = writableChannel(ctx, args);
  if (isReply(target)) return target;
  // Replies name the channel by id, whatever the request named it by.
  const channel = target.id;
  if (!hasContent(args)) return fail('no_text');
  const ts = ctx.state.nextTs();
  const threadTs = str(args.thread_ts);
  const blocks = Array.isArray(args.blocks) ? (args.blocks as unknown[]) : undefined;
  ctx.state.add({
    channel,
    ts,
    user: ctx.botUserId,
    botId: ctx.botId,
    ...(str(args.text) !== undefined ? { text: str(args.text) } : {}),
    ...(blocks ? { blocks } : {}),
    ...(threadTs ? { threadTs } : {}),
  });
  const message = {
    type: 'message',
    user: ctx.botUserId,
    bot_id: ctx.botId,
    text: str(args.text) ?? '',
    ts,
    ...(blocks ? { blocks } : {}),
    ...(threadTs ? { thread_ts: threadTs } : {}),
  };
  return { ok: true, channel, ts, message };
}

function update(ctx: MethodContext, args: Args): Reply {
  const target = writableChannel(ctx, args);
  if (isReply(target)) return target;
  const channel = target.id;
  const ts = str(args.ts);
  const found = ts ? ctx.state.find(channel, ts) : undefined;
  if (!found) return fail('message_not_found');
  if (!hasContent(args)) return fail('no_text');
  if (args.text !== undefined) found.text = str(args.text) ?? '';
  if (Array.isArray(args.blocks)) found.blocks = args.blocks as unknown[];
  found.edited = { ts: ctx.state.nextTs() };
  return { ok: true, channel, ts: found.ts, text: found.text ?? '', message: { text: found.text ?? '' } };
}

function postEphemeral(ctx: MethodContext, args: Args): Reply {
  const target = writableChannel(ctx, args);
  if (isReply(target)) return target;
  const user = str(args.user);
  if (!user || (target.members !== undefined && !target.members.includes(user))) {
    return fail('user_not_in_channel');
  }
  if (!hasContent(args)) return fail('no_text');
  return { ok: true, message_ts: ctx.state.nextTs() };
}

function usersInfo(ctx: MethodContext, args: Args): Reply {
  const id = str(args.user);
  if (!id || !/^[UW][A-Z0-9_]+$/.test(id)) return fail('user_not_found');
  const name = id.replace(/^U_?/, '').toLowerCase();
  return {
    ok: true,
    user: {
      id,
      team_id: ctx.teamId,
      name,
      real_name: name,
      is_bot: false,
      profile: { display_name: name, real_name: name },
    },
  };
}

/** conversations.info takes an id only; a private channel the bot is not in does not exist for it. */
function conversationsInfo(ctx: MethodContext, args: Args): Reply {
  const id = channelOf(args);
  const c = id ? ctx.channels.visible(id) : undefined;
  if (!c || c.id !== id) return fail('channel_not_found');
  return {
    ok: true,
    channel: {
      id: c.id,
      name: c.name,
      is_channel: !c.private,
      is_group: false,
      is_im: false,
      is_private: c.private === true,
      is_archived: c.archived === true,
      is_general: false,
      is_member: c.botMember !== false,
      created: 1700000000,
      creator: 'U0ADMIN',
      name_normalized: c.name,
    },
  };
}

function usergroupUsers(ctx: MethodContext, args: Args): Reply {
  const group = str(args.usergroup);
  const users = group ? ctx.userGroups[group] : undefined;
  if (!users) return fail('no_such_subteam');
  return { ok: true, users: [...users] };
}

function authTest(ctx: MethodContext): Reply {
  return {
    ok: true,
    url: 'https://sandbox.slack.test/',
    team: 'sandbox',
    user: 'credential-rotator',
    team_id: ctx.teamId,
    user_id: ctx.botUserId,
    bot_id: ctx.botId,
    is_enterprise_install: false,
  };
}

/** The modelled methods, one per line in name order; anything else answers unknown_method. */
export const METHODS: Record<string, (ctx: MethodContext, args: Args) => Reply> = {
  'auth.test': authTest,
  'chat.postEphemeral': postEphemeral,
  'chat.postMessage': postMessage,
  'chat.update': update,
  'conversations.info': conversationsInfo,
  'usergroups.users.list': usergroupUsers,
  'users.info': usersInfo,
  'views.open': viewsOpen,
  'views.publish': viewsPublish,
};
