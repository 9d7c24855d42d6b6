import { describeAge, type AgeAssessment } from '../../domain/policy';
import { context, esc, section, type SlackBlock, type View } from './blocks';

export interface DueEntry {
  name: string;
  age: AgeAssessment;
  active?: boolean;
}

export interface DueViewOptions {
  /** `/rotate due all [page]`: every credential, paged; otherwise the most urgent ones. */
  all?: boolean;
  /** 1-based page of the full list. */
  page?: number;
}

/** Slack's limits: 3,000 characters of section text, 50 blocks per message. */
export const SECTION_CHARS = 3_000;
export const MAX_BLOCKS = 50;
/** A page leaves room for the heading and the closing context line. */
const PAGE_SECTIONS = MAX_BLOCKS - 5;

const ORDER = { overdue: 0, due_soon: 1, unknown: 2, ok: 3 } as const;
const ICON = { overdue: '🔴', due_soon: '🟡', unknown: '⚪', ok: '🟢' } as const;
const LABEL = { overdue: 'overdue', due_soon: 'due soon', unknown: 'unknown', ok: 'ok' } as const;

/** Most urgent first: by status, then the earliest due date (longest overdue first), then name. */
function byUrgency(entries: DueEntry[]): DueEntry[] {
  const keyed = entries.map((e) => ({ e, due: e.age.dueAt ? Date.parse(e.age.dueAt) : Infinity }));
  keyed.sort(
    (a, b) =>
      ORDER[a.e.age.status] - ORDER[b.e.age.status] ||
      a.due - b.due ||
      (a.e.name < b.e.name ? -1 : a.e.name > b.e.name ? 1 : 0),
  );
  return keyed.map((k) => k.e);
}

const line = (e: DueEntry) =>
  `${ICON[e.age.status]} *${esc(e.name)}* — ${esc(describeAge(e.age))}${e.active ? ' · run in progress' : ''}`;

/** Section texts of at most SECTION_CHARS each, lines rendered only as they are packed. */
function* sections(entries: DueEntry[]): Generator<{ text: string; count: number }> {
  let text = '';
  let count = 0;
  for (const e of entries) {
    const next = line(e);
    if (count > 0 && text.length + 1 + next.length > SECTION_CHARS) {
      yield { text, count };
      text = '';
      count = 0;
    }
    text = count === 0 ? next : `${text}\n${next}`;
    count += 1;
  }
  if (count > 0) yield { text, count };
}

function counts(entries: DueEntry[]): string {
  const n = { overdue: 0, due_soon: 0, unknown: 0, ok: 0 };
  for (const e of entries) n[e.age.status] += 1;
  const parts = (Object.keys(n) as Array<keyof typeof n>)
    .filter((k) => n[k] > 0)
    .map((k) => `${n[k].toLocaleString('en-US')} ${LABEL[k]}`);
  return parts.join(' · ');
}

/**
 * `/rotate due` (and `/rotate status` without a name): the most urgent credentials in one section,
 * ending with how many more there are; `/rotate due all [page]` pages the whole list within
 * Slack's block and text limits.
 */
export function dueView(entries: DueEntry[], opts: DueViewOptions = {}): View {
  const sorted = byUrgency(entries);
  const due = sorted.filter((e) => e.age.status === 'overdue' || e.age.status === 'due_soon').length;
  const text = `${due} credential(s) overdue or due soon`;
  if (sorted.length === 0)
    return { text, blocks: [section('*Rotation due*\nNo credentials in the catalog.')] };
  const page = Math.max(1, Math.floor(opts.page ?? 1));
  const perPage = opts.all ? PAGE_SECTIONS : 1;
  const blocks: SlackBlock[] = [section(`*Rotation due* — ${counts(sorted)}`)];
  let index = 0;
  let before = 0;
  let shown = 0;
  for (const chunk of sections(sorted)) {
    const onPage = Math.floor(index / perPage) + 1;
    index += 1;
    if (onPage < page) before += chunk.count;
    else if (onPage === page) {
      blocks.push(section(chunk.text));
      shown += chunk.count;
    } else break;
  }
  const more = sorted.length - before - shown;
  const pages = opts.all ? Math.ceil(index / perPage) : 1;
  if (shown === 0) blocks.push(context(`No page ${page}: try \`/rotate due all\`.`));
  else if (more > 0) {
    const command = opts.all ? `/rotate due all ${page + 1}` : '/rotate due all';
    blocks.push(context(`…and ${more.toLocaleString('en-US')} more: \`${command}\``));
  } else if (opts.all && pages > 1) blocks.push(context(`Page ${page}, the last.`));
  return { text, blocks };
}
