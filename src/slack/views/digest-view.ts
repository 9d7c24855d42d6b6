import {
  channelDigests,
  postedDigests,
  type ChannelDigest,
  type DigestRow,
  type DigestSettings,
  type Snooze,
} from '../../domain/digest';
import type { DriftFinding, InventoryReport } from '../../domain/inventory';
import { MAX_BLOCKS, SECTION_CHARS } from './due-view';
import {
  channelRef,
  context,
  esc,
  header,
  mention,
  section,
  slackTime,
  type SlackBlock,
  type View,
} from './blocks';

export const ROTATE_NOW_ACTION = 'digest_rotate_now';
export const SNOOZE_ACTION = 'digest_snooze';
export const SNOOZE_DAYS = 7;

/**
 * Rows with buttons per message: each is a section and an actions block, and the heading, the
 * snoozed, unknown and drift sections and the closing line must still fit Slack's 50 blocks.
 */
export const DIGEST_ROWS = 20;
const DRIFT_LINES = 5;

export interface DigestViewOptions {
  /** 1-based page of the due rows (`/rotate due [page]`, `/rotate due all [page]`). */
  page?: number;
  /** Every channel's rows (`/rotate due all`): each row names its channel. */
  all?: boolean;
  /** The scheduled tick this digest answers (ISO), shown so a reader can tell one week's from the next. */
  tick?: string;
}

const ICON: Record<DigestRow['state'], string> = {
  'never-rotated': '🔴',
  overdue: '🔴',
  'due-soon': '🟡',
  unknown: '⚪',
};

function when(r: DigestRow): string {
  if (r.state === 'never-rotated') return 'never rotated';
  if (r.daysLeft === undefined) return r.state;
  if (r.daysLeft < 0) return `overdue by ${-r.daysLeft} day${r.daysLeft === -1 ? '' : 's'}`;
  if (r.daysLeft === 0) return 'due today';
  return `due in ${r.daysLeft} day${r.daysLeft === 1 ? '' : 's'}`;
}

function rowLine(r: DigestRow, all: boolean): string {
  const policy =
    r.type && r.maxAgeDays !== undefined
      ? ` · ${r.type}, ${r.risk === 'high' ? 'high risk' : 'standard'}: ${r.maxAgeDays}-day policy`
      : '';
  const due = r.dueAt ? `, due ${slackTime(r.dueAt, '{date_short}')}` : '';
  const where = all ? ` · ${channelRef(r.channel)}` : '';
  return `${ICON[r.state]} *${esc(r.name)}* — *${when(r)}*${due}${policy}${where}`;
}

const snoozedLine = (r: DigestRow) =>
  `💤 *${esc(r.name)}* (${when(r)}) — snoozed by ${mention(r.snoozed!.by)} until ${slackTime(r.snoozed!.until, '{date_short}')}`;

/** A row of another channel (sent on to the security channel, or `all`) names its channel. */
const unknownLine = (r: DigestRow, channel: string) =>
  `⚪ *${esc(r.name)}* — ${esc(r.reason ?? 'state unknown')}${r.channel !== channel ? ` · ${channelRef(r.channel)}` : ''}`;

export function driftLine(f: DriftFinding): string {
  switch (f.kind) {
    case 'vault-only':
      return `\`secret/${esc(f.path)}\` is in Vault but not in the catalog: nobody rotates it`;
    case 'catalog-only':
      return `*${esc(f.name)}* is in the catalog but missing from Vault (\`${esc(f.path)}\`): its next rotation fails`;
    case 'missing-consumer':
      return `*${esc(f.name)}*: declared consumer *${esc(f.consumer)}* is not found in the cluster (${esc(f.where)})`;
    case 'undeclared-consumer':
      return `*${esc(f.name)}*: \`${esc(f.where)}\` uses its secret but is not a declared consumer`;
  }
}

/** A titled list in one section, cut to Slack's text limit with how many were left out. */
function listSection(title: string, lines: string[], max = lines.length): SlackBlock {
  let text = title;
  let shown = 0;
  for (const l of lines.slice(0, max)) {
    if (text.length + 1 + l.length > SECTION_CHARS - 40) break;
    text += `\n${l}`;
    shown += 1;
  }
  if (shown < lines.length) text += `\n…and ${(lines.length - shown).toLocaleString('en-US')} more`;
  return section(text);
}

function buttons(r: DigestRow): SlackBlock {
  return {
    type: 'actions',
    block_id: `digest:${r.name}`,
    elements: [
      {
        type: 'button',
        action_id: ROTATE_NOW_ACTION,
        text: { type: 'plain_text', text: 'Rotate now' },
        style: 'primary',
        value: r.name,
      },
      {
        type: 'button',
        action_id: SNOOZE_ACTION,
        text: { type: 'plain_text', text: `Snooze ${SNOOZE_DAYS} days` },
        value: r.name,
      },
    ],
  };
}

function counts(d: ChannelDigest): string {
  const overdue = d.due.filter((r) => r.state !== 'due-soon').length;
  const parts = [
    [overdue, 'overdue'],
    [d.due.length - overdue, 'due soon'],
    [d.snoozed.length, 'snoozed'],
    [d.unknown.length, 'unknown'],
    [d.drift.length, 'drift'],
  ] as const;
  return (
    parts
      .filter(([n]) => n > 0)
      .map(([n, label]) => `${n.toLocaleString('en-US')} ${label}`)
      .join(' · ') || 'nothing due'
  );
}

/**
 * A channel's digest (or every channel's, with `all`): overdue first, then due soon, each with
 * days left, **Rotate now** and **Snooze**; then what is snoozed (by whom, until when), what could
 * not be read, and the drift. Due rows page by DIGEST_ROWS within Slack's block and text limits.
 */
export function digestView(d: ChannelDigest, opts: DigestViewOptions = {}): View {
  const all = opts.all === true;
  const page = Math.max(1, Math.floor(opts.page ?? 1));
  const rows = d.due.slice((page - 1) * DIGEST_ROWS, page * DIGEST_ROWS);
  const where = all ? 'every channel' : channelRef(d.channel);
  const blocks: SlackBlock[] = [
    header(all ? 'Credentials due for rotation' : 'Credentials due for rotation in this channel'),
    context(`${counts(d)}${opts.tick ? ` · digest of ${slackTime(opts.tick)}` : ''}`),
  ];
  for (const r of rows) blocks.push(section(rowLine(r, all)), buttons(r));
  if (page === 1) {
    if (d.snoozed.length) blocks.push(listSection('*Snoozed*', d.snoozed.map(snoozedLine)));
    if (d.unknown.length)
      blocks.push(
        listSection(
          '*Could not be checked*',
          d.unknown.map((r) => unknownLine(r, d.channel)),
        ),
      );
    if (d.drift.length) blocks.push(listSection('*Drift*', d.drift.map(driftLine), DRIFT_LINES));
  }
  const more = d.due.length - (page - 1) * DIGEST_ROWS - rows.length;
  const command = `/rotate due${all ? ' all' : ''}`;
  if (rows.length === 0 && page > 1) blocks.push(context(`No page ${page}: try \`${command}\`.`));
  else if (more > 0)
    blocks.push(context(`…and ${more.toLocaleString('en-US')} more due: \`${command} ${page + 1}\``));
  else if (d.due.length === 0 && !all)
    blocks.push(context('Nothing is due in this channel. `/rotate due all` shows every channel.'));
  return {
    text: `Rotation digest for ${where}: ${counts(d)}${opts.tick ? ` (digest of ${opts.tick})` : ''}`,
    blocks: blocks.slice(0, MAX_BLOCKS),
  };
}

/**
 * One message per channel with something due; nothing for the others. Their unreadable rows and
 * drift go to the security channel's message (`postedDigests`).
 */
export function digestMessages(
  report: InventoryReport,
  snoozes: ReadonlyMap<string, Snooze>,
  now: Date,
  settings: DigestSettings,
  tick?: string,
): Array<{ channel: string; view: View }> {
  return postedDigests(channelDigests(report, snoozes, now, settings), settings.securityChannel).map((d) => ({
    channel: d.channel,
    view: digestView(d, tick ? { tick } : {}),
  }));
}
