import { issuerPolicy, type CredentialSpec } from './credential';

/** "4 h", "7 d", "90 s": a wait as the plan shows it. */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s % 86_400 === 0 && s > 0) return `${s / 86_400} d`;
  if (s % 3_600 === 0 && s > 0) return `${s / 3_600} h`;
  if (s % 60 === 0 && s > 0) return `${s / 60} min`;
  return `${s} s`;
}

/** What the plan says about the issuer's own waits: the quiet window, the grace period, consistency. */
export function policyNotes(spec: CredentialSpec): string[] {
  const p = issuerPolicy(spec.issuer);
  const notes: string[] = [];
  if (p.quietWindowMs !== undefined) {
    notes.push(
      `Quiet window ${humanDuration(p.quietWindowMs)} before the old key is switched off: ${spec.issuer.name} reports a key's last use hours late, so a forgotten consumer needs that long to show up`,
    );
  }
  if (p.deleteAfterMs !== undefined) {
    notes.push(
      `The old key is deactivated, not deleted, and deleted ${humanDuration(p.deleteAfterMs)} later; until then an approver can rescue a forgotten consumer with *Reactivate old key* in \`/rotate status\``,
    );
  }
  if (p.newKeyConsistencyMs) {
    notes.push(
      `New keys are eventually consistent: verification retries for up to ${humanDuration(p.newKeyConsistencyMs)} before it fails`,
    );
  }
  return notes;
}
