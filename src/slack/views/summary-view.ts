import type { CredentialSpec } from '../../domain/credential';
import { runDurationMs, type Identity, type Run, type RunOutcome } from '../../domain/run';
import { context, duration, esc, fields, header, section, type SlackBlock, type View } from './blocks';
import { troubleshootingBlocks, troubleshootingFor } from './hints';
import { stepTitle } from '../../domain/step-titles';

const OUTCOME: Record<RunOutcome, string> = {
  succeeded: '✓ Rotated',
  rolled_back: '↩ Rolled back',
  failed: '✗ Failed',
  refused: '✗ Refused',
};

export function who(id: Identity | undefined): string {
  if (!id) return '—';
  if (id.kind === 'slack') return `<@${id.id}>`;
  if (id.kind === 'schedule') return 'schedule';
  return esc(`${id.kind}:${id.name ?? id.id}`);
}

const at = (iso: string | undefined): string =>
  iso ? `<!date^${Math.floor(Date.parse(iso) / 1000)}^{date_short} {time}|${iso}>` : '—';

/** The final report: outcome, people, versions, verification, revocation, duration; the runbook row on failure. */
export function summaryView(run: Run, spec: CredentialSpec): View {
  const outcome = run.outcome ? OUTCOME[run.outcome] : 'Finished';
  const f = run.facts;
  const verified = f.consumersVerified?.length ? f.consumersVerified.map(esc).join(', ') : '—';
  const blocks: SlackBlock[] = [
    header(`${outcome}: ${run.credential}`),
    fields(
      `*Requester*\n${who(run.requester)}`,
      `*Approver*\n${who(run.approver)}`,
      `*New store version*\n${f.newVersion ?? '—'}`,
      `*Consumers verified*\n${verified}`,
      `*Old key revoked at*\n${at(f.revokedAt)}`,
      `*Duration*\n${duration(runDurationMs(run)) || '—'}`,
    ),
  ];
  if (f.restoredVersion !== undefined)
    blocks.push(section(`Previous value restored as version ${f.restoredVersion}.`));
  if (f.recordPending)
    blocks.push(
      section(
        'Vault’s record (previous_key cleared, rotation_verified_at) could not be written yet: it is retried automatically until it is done.',
      ),
    );
  if (run.failure) {
    const step = stepTitle(run.failure.step);
    blocks.push(section(`*What went wrong* (step: ${esc(step)})\n${esc(run.failure.message)}`));
    const row = troubleshootingFor(run.failure.hint, run.failure.code);
    if (row) blocks.push(...troubleshootingBlocks(row));
  }
  blocks.push(context(`Run \`${esc(run.id)}\` · contact ${esc(spec.contact)}`));
  return { text: `${outcome}: ${run.credential} (run ${run.id})`, blocks };
}
