import { TROUBLESHOOTING, hintFor, type TroubleshootingRow } from '../../domain/troubleshooting';
import { context, esc, section, type SlackBlock } from './blocks';

/** The runbook row for a named hint or, failing that, the error code (one map: src/domain/troubleshooting). */
export function troubleshootingFor(hint?: string, code?: string): TroubleshootingRow | undefined {
  const key = hintFor(code, hint);
  return key ? TROUBLESHOOTING[key] : undefined;
}

/** The runbook row as blocks: symptom, cause, resolution. */
export function troubleshootingBlocks(row: TroubleshootingRow): SlackBlock[] {
  return [
    section(
      `*Runbook: ${esc(row.symptom)}*\n*Cause:* ${esc(row.cause)}\n*Resolution:* ${esc(row.resolution)}`,
    ),
    context('From the rotation runbook’s troubleshooting table.'),
  ];
}
