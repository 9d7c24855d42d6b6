import type { SlackState } from './state';

export type Args = Record<string, unknown>;
export type Reply = Record<string, unknown> & { ok: boolean };

export interface MethodContext {
  state: SlackState;
  teamId: string;
  botUserId: string;
  botId: string;
  userGroups: Record<string, string[]>;
  /** Channel id → name: the workspace's channels, as conversations.info knows them. */
  channels: Record<string, string>;
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

function postMessage(ctx: MethodContext, args: Args): Reply {
  const channel = channelOf(args);
  if (!channel) return fail('channel_not_found');
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
  const channel = channelOf(args);
  if (!channel) return fail('channel_not_found');
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
  if (!channelOf(args)) return fail('channel_not_found');
  if (!str(args.user)) return fail('user_not_in_channel');
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

/**
 * conversations.info as Slack answers it: the conversation object for a channel id the workspace
 * has, `channel_not_found` for anything else (Slack looks channels up by id, never by name).
 * Private channels are the G… ids.
 */
function conversationsInfo(ctx: MethodContext, args: Args): Reply {
  const id = channelOf(args);
  const name = id ? ctx.channels[id] : undefined;
  if (!id || name === undefined) return fail('channel_not_found');
  const isPrivate = id.startsWith('G');
  return {
    ok: true,
    channel: {
      id,
      name,
      is_channel: true,
      is_group: false,
      is_im: false,
      is_mpim: false,
      is_private: isPrivate,
      created: 1_700_000_000,
      is_archived: false,
      is_general: name === 'general',
      unlinked: 0,
      name_normalized: name,
      is_shared: false,
      is_org_shared: false,
      is_ext_shared: false,
      is_pending_ext_shared: false,
      context_team_id: ctx.teamId,
      creator: 'U_ADMIN',
      is_member: true,
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
      previous_names: [],
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

export const METHODS: Record<string, (ctx: MethodContext, args: Args) => Reply> = {
  'auth.test': authTest,
  'chat.postMessage': postMessage,
  'chat.update': update,
  'chat.postEphemeral': postEphemeral,
  'users.info': usersInfo,
  'conversations.info': conversationsInfo,
  'usergroups.users.list': usergroupUsers,
};
