import type { CredentialSpec } from '../../domain/credential';
import { formatIncidentRecord, type IncidentRecord } from '../../domain/incident';
import { runDurationMs, type Run, type RunOutcome } from '../../domain/run';
import { stepTitle } from '../../domain/step-titles';
import type { TroubleshootingKey } from '../../domain/troubleshooting';
import {
  context,
  duration,
  esc,
  fields,
  header,
  mention,
  plain,
  section,
  slackTime,
  type SlackBlock,
  type View,
} from './blocks';
import { troubleshootingBlocks, troubleshootingFor } from './hints';
import { who } from './summary-view';

export const EMERGENCY_REVIEWED_ACTION = 'emergency_reviewed';

const OUTCOME: Record<RunOutcome, string> = {
  succeeded: '✓ Rotated',
  rolled_back: '↩ Rolled back',
  failed: '✗ Failed',
  refused: '✗ Refused',
};

/** complete / pending, as the runbook's incident record says it. */
export function verificationOf(run: Run): string {
  if (run.facts.verifiedAt && !run.facts.verificationPending)
    return `complete ${slackTime(run.facts.verifiedAt)}`;
  return run.status === 'finished' || run.facts.verificationPending ? 'pending' : '—';
}

/**
 * An emergency run's final summary: to the incident channel, and to the security channel with a
 * **Reviewed** button (`reviewable`), since the change skipped its approval gate.
 */
export function emergencySummaryView(run: Run, spec: CredentialSpec, opts: { reviewable: boolean }): View {
  const outcome = run.outcome ? OUTCOME[run.outcome] : 'Finished';
  const f = run.facts;
  const ref = run.incident?.ref ?? 'no incident';
  const blocks: SlackBlock[] = [
    header(`🚨 ${outcome}: ${run.credential} (${ref})`),
    fields(
      `*Incident*\n${esc(ref)}${run.incident ? ` in <#${run.incident.channel}>` : ''}`,
      `*Started by*\n${who(run.requester)}`,
      `*Compromised keys*\n${f.compromisedKeyIds?.length ? f.compromisedKeyIds.map((k) => `\`${esc(k)}\``).join(', ') : '—'}`,
      `*Revoked at*\n${slackTime(f.revokedAt)}`,
      `*New credential deployed*\n${slackTime(f.deployedAt)}`,
      `*Verification*\n${verificationOf(run)}`,
      `*New key*\n${f.newKeyId ? `\`${esc(f.newKeyId)}\`` : '—'}`,
      `*Duration*\n${duration(runDurationMs(run)) || '—'}`,
    ),
  ];
  if (run.failure) {
    blocks.push(
      section(`*What went wrong* (step: ${esc(stepTitle(run.failure.step))})\n${esc(run.failure.message)}`),
    );
    const row = troubleshootingFor(run.failure.hint, run.failure.code);
    if (row) blocks.push(...troubleshootingBlocks(row));
  }
  blocks.push(
    context(
      `Run \`${esc(run.id)}\` · contact ${esc(spec.contact)} · expedited change without approval: ${opts.reviewable ? 'an approver reviews it here' : 'reviewed in the security channel'}`,
    ),
  );
  if (opts.reviewable) {
    blocks.push({
      type: 'actions',
      block_id: 'emergency_review',
      elements: [
        {
          type: 'button',
          action_id: EMERGENCY_REVIEWED_ACTION,
          text: plain('Reviewed'),
          style: 'primary',
          value: run.id,
        },
      ],
    });
  }
  return { text: `Emergency ${outcome.toLowerCase()}: ${run.credential} (${ref}, run ${run.id})`, blocks };
}

/** The line that replaces the Reviewed button. */
export const reviewedLine = (user: string, at: string): string =>
  `✓ Reviewed by ${mention(user)} at ${slackTime(at)}`;

/** An escalation to the incident (and security) channel, with the runbook's row when there is one. */
export function escalationView(run: Run, message: { text: string; hint?: TroubleshootingKey }): View {
  const ref = run.incident?.ref ?? 'no incident';
  const blocks: SlackBlock[] = [section(esc(message.text))];
  const row = troubleshootingFor(message.hint);
  if (row) blocks.push(...troubleshootingBlocks(row));
  blocks.push(context(`${esc(ref)} · \`${esc(run.credential)}\` · run \`${esc(run.id)}\``));
  return { text: `${ref}: ${message.text}`, blocks };
}

/** The runbook's incident record, as its heredoc writes it, in the incident channel. */
export function incidentRecordView(run: Run, record: IncidentRecord): View {
  const text = formatIncidentRecord(record);
  return {
    text: `Incident record for ${record.incident}: ${record.credential}`,
    blocks: [
      section(`*📝 Incident record — ${esc(record.incident)}*\n\`\`\`${esc(text)}\`\`\``),
      context(`Run \`${esc(run.id)}\` · kept in the audit trail`),
    ],
  };
}
