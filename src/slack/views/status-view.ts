import type { DriftFinding } from '../../domain/inventory';
import type { AgeAssessment } from '../../domain/policy';
import { describeAge } from '../../domain/policy';
import type { Run } from '../../domain/run';
import { describeFinding } from '../../inventory/drift';
import type { RunHistoryEntry } from '../../procedures/history';
import { duration, esc, section, slackTime, type SlackBlock, type View } from './blocks';
import { stepTitle } from '../../domain/step-titles';
import { who } from './summary-view';
import { oldKeyBlocks } from './old-key-view';

export interface StatusInput {
  name: string;
  active?: Run;
  last?: Run;
  /** A run whose deactivated old key awaits its delayed deletion (AWS), or was kept or reactivated. */
  oldKey?: Run;
  age: AgeAssessment;
  /** Catalog, Vault and cluster disagreeing about this credential. */
  drift?: DriftFinding[];
  /** The Kubernetes Secret its consumers reference, named in undeclared-consumer lines. */
  secret?: string;
}

/** At most this many drift lines in the status answer; the rest is counted. */
const DRIFT_LINES = 8;

function driftSection(drift: DriftFinding[], secret: string | undefined): SlackBlock {
  const lines = drift.slice(0, DRIFT_LINES).map((f) => `• ${esc(describeFinding(f, () => secret))}`);
  if (drift.length > DRIFT_LINES) lines.push(`…and ${drift.length - DRIFT_LINES} more`);
  return section(`*Drift* (fix the catalog before rotating)\n${lines.join('\n')}`);
}

export function runLine(run: Run): string {
  const when = `<!date^${Math.floor(Date.parse(run.updatedAt) / 1000)}^{date_short} {time}|${run.updatedAt}>`;
  const outcome = run.outcome ?? run.status;
  return `\`${esc(run.id)}\` ${outcome.replace('_', ' ')} · ${when} · requested by ${who(run.requester)}${
    run.approver ? `, approved by ${who(run.approver)}` : ''
  }`;
}

/** `/rotate status <name>`: the step a run is in, or the last outcome, and the age. */
export function statusView(input: StatusInput): View {
  const blocks: SlackBlock[] = [section(`*${esc(input.name)}* — ${esc(describeAge(input.age))}`)];
  if (input.active) {
    const step = input.active.steps.find((s) => s.status === 'running' || s.status === 'waiting');
    const where = step
      ? `in step *${stepTitle(step.name)}*${step.status === 'waiting' ? ' (waiting)' : ''}`
      : 'queued';
    blocks.push(section(`Run \`${esc(input.active.id)}\` is ${where}.`));
  } else if (input.last) {
    blocks.push(section(`Last run: ${runLine(input.last)}`));
    // The summary never reached its channel: this is where someone asking finds out.
    if (input.last.notifyError) blocks.push(section(`⚠ Summary not posted: ${esc(input.last.notifyError)}`));
  } else {
    blocks.push(section('No rotation run recorded yet.'));
  }
  if (input.drift?.length) blocks.push(driftSection(input.drift, input.secret));
  if (input.oldKey) blocks.push(...oldKeyBlocks(input.oldKey));
  return { text: `${input.name}: ${describeAge(input.age)}`, blocks };
}

/** "slack:U0ALICE" → a mention; "cli:alice" stays as it is. */
const identity = (id: string | undefined): string =>
  id === undefined ? '—' : id.startsWith('slack:') ? `<@${id.slice('slack:'.length)}>` : esc(id);

function historyLine(h: RunHistoryEntry): string {
  const outcome = h.outcome ? h.outcome.replace('_', ' ') : 'in progress';
  const took = h.durationMs !== undefined ? ` · took ${duration(h.durationMs)}` : '';
  const approved = h.approver ? `, approved by ${identity(h.approver)}` : '';
  const versions = h.versions.length
    ? ` · Vault version${h.versions.length > 1 ? 's' : ''} ${h.versions.join(', ')}`
    : '';
  const incident = h.incident ? ` · ${esc(h.incident)}` : '';
  return `• *${h.procedure}* ${outcome} · started ${slackTime(h.startedAt, '{date_short} {time}')}${took} · requested by ${identity(h.requester)}${approved}${versions}${incident} · \`${esc(h.runId)}\``;
}

/** `/rotate history <name>`: recent runs from the audit trail, most recent first. */
export function historyView(name: string, runs: RunHistoryEntry[]): View {
  const lines = runs.map(historyLine);
  const blocks = [section(`*History of ${esc(name)}*\n${lines.length ? lines.join('\n') : 'No runs yet.'}`)];
  return { text: `History of ${name}: ${runs.length} run(s)`, blocks };
}
