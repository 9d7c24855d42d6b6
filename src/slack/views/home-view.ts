import type { InventoryRow, InventoryStatus } from '../../domain/inventory';
import type { Run } from '../../domain/run';
import { stepTitle } from '../../domain/step-titles';
import { describeFinding } from '../../inventory/drift';
import type { Dashboard } from '../../inventory/inventory-service';
import { context, divider, esc, header, section, slackTime, type SlackBlock } from './blocks';
import { SECTION_CHARS } from './due-view';

/** A Home tab view (views.publish): Slack takes at most 100 blocks. */
export interface HomeView {
  type: 'home';
  blocks: SlackBlock[];
}

export const HOME_MAX_BLOCKS = 100;
const DRIFT_LINES = 10;
const OPEN_LINES = 10;

const ICON: Record<InventoryStatus, string> = {
  overdue: '🔴',
  'never-rotated': '🟠',
  'due-soon': '🟡',
  unknown: '⚪',
  ok: '🟢',
};
const ORDER: InventoryStatus[] = ['overdue', 'never-rotated', 'due-soon', 'unknown', 'ok'];

function counts(rows: InventoryRow[]): string {
  const n = new Map<InventoryStatus, number>();
  for (const r of rows) n.set(r.status, (n.get(r.status) ?? 0) + 1);
  const parts = ORDER.filter((s) => n.has(s)).map(
    (s) => `${ICON[s]} ${n.get(s)!.toLocaleString('en-US')} ${s}`,
  );
  return parts.length ? parts.join(' · ') : 'No credentials.';
}

function due(row: InventoryRow): string {
  if (!row.dueAt || row.daysLeft === undefined) return row.reason ? esc(row.reason) : 'due date unknown';
  const when = slackTime(row.dueAt, '{date_short}');
  if (row.daysLeft < 0) return `was due ${when} (${-row.daysLeft} days ago)`;
  return `next due ${when} (in ${row.daysLeft} days)`;
}

function rowLine(row: InventoryRow, last: Run | undefined, open: boolean): string {
  const outcome = last
    ? ` · last: ${(last.outcome ?? last.status).replace('_', ' ')} ${slackTime(last.updatedAt, '{date_short}')}`
    : row.inCatalog
      ? ' · last: no run yet'
      : '';
  return `${ICON[row.status]} *${esc(row.name)}* — ${row.status} · ${due(row)}${outcome}${open ? ' · *run in progress*' : ''}`;
}

/** Lines packed into sections of at most SECTION_CHARS. */
function packed(lines: string[]): SlackBlock[] {
  const out: SlackBlock[] = [];
  let text = '';
  for (const line of lines) {
    if (text && text.length + 1 + line.length > SECTION_CHARS) {
      out.push(section(text));
      text = '';
    }
    text = text ? `${text}\n${line}` : line;
  }
  if (text) out.push(section(text));
  return out;
}

function openLine(run: Run): string {
  const step = run.steps.find((s) => s.status === 'running' || s.status === 'waiting');
  const where = step ? `step *${stepTitle(step.name)}*` : 'queued';
  return `• *${esc(run.credential)}* — ${run.procedure} run \`${esc(run.id)}\` in ${where}`;
}

/**
 * The App Home dashboard: counts per status, runs in progress, the most urgent credentials with
 * their next due date and last outcome, and drift between the catalog, Vault and the cluster.
 */
export function homeView(d: Dashboard): HomeView {
  const openBy = new Set(d.open.map((r) => r.credential));
  const blocks: SlackBlock[] = [
    header('Credential rotation'),
    section(counts(d.report.rows)),
    context(
      `Inventory of ${slackTime(d.report.generatedAt)} · \`/rotate due\` for the list, \`/rotate <name>\` to rotate`,
    ),
    divider,
    section(
      d.open.length
        ? `*Runs in progress*\n${d.open.slice(0, OPEN_LINES).map(openLine).join('\n')}${d.open.length > OPEN_LINES ? `\n…and ${d.open.length - OPEN_LINES} more` : ''}`
        : '*Runs in progress*\nNone.',
    ),
    divider,
    ...packed(d.rows.map(({ row, last }) => rowLine(row, last, openBy.has(row.name)))),
  ];
  if (d.more > 0) blocks.push(context(`…and ${d.more.toLocaleString('en-US')} more: \`npm run inventory\``));
  if (d.report.drift.length > 0) {
    const lines = d.report.drift.slice(0, DRIFT_LINES).map((f) => `• ${esc(describeFinding(f))}`);
    if (d.report.drift.length > DRIFT_LINES) lines.push(`…and ${d.report.drift.length - DRIFT_LINES} more`);
    blocks.push(divider, section(`*Drift* (${d.report.drift.length})\n${lines.join('\n')}`));
  }
  for (const p of d.report.problems ?? []) blocks.push(context(`⚠️ ${esc(p)}`));
  return { type: 'home', blocks: blocks.slice(0, HOME_MAX_BLOCKS) };
}
