import type { Run } from '../../domain/run';
import { stepTitle } from '../../domain/step-titles';
import { context, esc, header, section, slackTime, type SlackBlock, type View } from './blocks';
import { verificationOf } from './emergency-summary-view';
import { packedSections } from './packed';
import { who } from './summary-view';

const TIME = '{time_secs}';

const OUTCOME = {
  succeeded: '✓ done',
  rolled_back: '↩ rolled back',
  failed: '✗ failed',
  refused: '✗ refused',
};

/** Where a run stands: its outcome once finished, else the step it is in. */
export function stepReached(run: Run): string {
  if (run.status === 'finished') return run.outcome ? OUTCOME[run.outcome] : 'finished';
  const step = run.steps.find((s) => s.status === 'running' || s.status === 'waiting');
  if (!step) return '○ queued';
  return `⏳ ${stepTitle(step.name)}${step.status === 'waiting' ? ' (waiting)' : ''}`;
}

function boardRow(run: Run): string {
  const f = run.facts;
  const verified =
    f.verifiedAt && !f.verificationPending
      ? slackTime(f.verifiedAt, TIME)
      : f.verificationPending
        ? 'pending'
        : '—';
  return (
    `*${esc(run.credential)}* — ${stepReached(run)} · revoked ${slackTime(f.revokedAt, TIME)}` +
    ` · deployed ${slackTime(f.deployedAt, TIME)} · verified ${verified}`
  );
}

/**
 * The incident message, edited in place: one row per credential (step reached, revoked at,
 * deployed, verified). `updatedAt` is when it was rendered.
 */
export function incidentBoardView(ref: string, runs: Run[], updatedAt: string): View {
  const finished = runs.filter((r) => r.status === 'finished').length;
  const failed = runs.filter((r) => r.status === 'finished' && r.outcome !== 'succeeded').length;
  const blocks: SlackBlock[] = [
    section(
      `*🚨 ${esc(ref)} — emergency rotation* · ${finished}/${runs.length} finished${failed ? ` · ${failed} failed` : ''}`,
    ),
    ...packedSections(runs.map(boardRow), 45, 'more credentials'),
    context(`Updated ${slackTime(updatedAt, TIME)} · \`/rotate incident ${esc(ref)}\` shows the timeline`),
  ];
  return { text: `${ref}: emergency rotation, ${finished}/${runs.length} finished`, blocks };
}

/** What the audit trail adds to a run for the timeline. */
export interface TimelineExtras {
  earliestSuspicious?: string;
  reviewedBy?: string;
  reviewedAt?: string;
}

function timelineEntry(run: Run, extra: TimelineExtras): string {
  const f = run.facts;
  const lines = [
    `*${esc(run.credential)}* — ${stepReached(run)} · run \`${esc(run.id)}\``,
    `   Started: ${slackTime(run.createdAt)} by ${who(run.requester)}`,
    `   Compromised key: ${f.compromisedKeyIds?.length ? f.compromisedKeyIds.map((k) => `\`${esc(k)}\``).join(', ') : 'unknown'}`,
    `   Revoked: ${f.revokedAt ? slackTime(f.revokedAt) : 'pending'}`,
    `   New credential deployed: ${f.deployedAt ? slackTime(f.deployedAt) : 'pending'}`,
    `   Verification: ${verificationOf(run)}`,
    `   Earliest suspicious use: ${extra.earliestSuspicious ? esc(extra.earliestSuspicious) : 'not known'}`,
  ];
  if (extra.reviewedBy) lines.push(`   Reviewed by <@${extra.reviewedBy}> at ${slackTime(extra.reviewedAt)}`);
  return lines.join('\n');
}

/** `/rotate incident <INC-…>`: the incident's timeline again, per credential. */
export function incidentTimelineView(ref: string, runs: Array<{ run: Run; extra: TimelineExtras }>): View {
  if (runs.length === 0) {
    const text = `No emergency rotation is recorded for ${ref}.`;
    return { text, blocks: [section(esc(text))] };
  }
  const blocks: SlackBlock[] = [
    header(`Timeline of ${ref}`),
    ...packedSections(
      runs.map((r) => timelineEntry(r.run, r.extra)),
      45,
      'more credentials',
    ),
  ];
  return { text: `Timeline of ${ref}: ${runs.length} credential(s)`, blocks };
}
