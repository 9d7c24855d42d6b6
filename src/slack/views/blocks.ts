import { isUserGroupId } from '../../domain/access';

/**
 * The Block Kit subset the views use, typed locally so views stay plain data (assignable to the
 * Web API's `blocks`). Text is mrkdwn unless said otherwise.
 */
export interface TextObject {
  type: 'mrkdwn' | 'plain_text';
  text: string;
  emoji?: boolean;
}

export interface ButtonElement {
  type: 'button';
  action_id: string;
  text: TextObject;
  value: string;
  style?: 'primary' | 'danger';
  confirm?: {
    title: TextObject;
    text: TextObject;
    confirm: TextObject;
    deny: TextObject;
  };
}

export type SlackBlock =
  | { type: 'header'; block_id?: string; text: TextObject }
  | { type: 'section'; block_id?: string; text?: TextObject; fields?: TextObject[] }
  | { type: 'context'; block_id?: string; elements: TextObject[] }
  | { type: 'divider'; block_id?: string }
  | { type: 'actions'; block_id?: string; elements: ButtonElement[] };

export interface View {
  /** Notification / fallback text. */
  text: string;
  blocks: SlackBlock[];
}

/** Slack's mrkdwn needs &, <, > escaped in user-visible text (everything else is literal). */
export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const md = (text: string): TextObject => ({ type: 'mrkdwn', text });
export const plain = (text: string): TextObject => ({ type: 'plain_text', text, emoji: true });

export const header = (text: string): SlackBlock => ({ type: 'header', text: plain(text.slice(0, 150)) });
export const section = (text: string): SlackBlock => ({ type: 'section', text: md(text.slice(0, 3000)) });
export const fields = (...items: string[]): SlackBlock => ({
  type: 'section',
  fields: items.slice(0, 10).map((t) => md(t.slice(0, 2000))),
});
export const context = (...items: string[]): SlackBlock => ({
  type: 'context',
  elements: items.slice(0, 10).map((t) => md(t)),
});
export const divider: SlackBlock = { type: 'divider' };

/** <@U…> for users, <!subteam^S…> for user groups. */
/**
 * A channel as Slack links it: `<#C…>` for an id; a configured name (SECURITY_CHANNEL's default
 * 'security-notifications') as plain `#name`, since `<#name>` renders as a broken link.
 */
export const channelRef = (channel: string): string =>
  /^[CG][A-Z0-9_]+$/.test(channel) ? `<#${channel}>` : `#${esc(channel.replace(/^#/, ''))}`;

export const mention = (id: string): string => (isUserGroupId(id) ? `<!subteam^${id}>` : `<@${id}>`);

export function duration(ms: number | undefined): string {
  if (ms === undefined || ms < 0) return '';
  if (ms < 1_000) return `${ms} ms`;
  const s = Math.round(ms / 1_000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
}

/** A time every reader sees in their own zone; the ISO text is the fallback. */
export const slackTime = (iso: string | undefined, format = '{date_short} {time_secs}'): string =>
  iso ? `<!date^${Math.floor(Date.parse(iso) / 1000)}^${format}|${iso}>` : '—';
