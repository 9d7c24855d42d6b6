import type { ErrorCode } from '../../domain/errors';
import {
  TROUBLESHOOTING,
  type TroubleshootingKey,
  type TroubleshootingRow,
} from '../../domain/troubleshooting';
import { context, esc, section, type SlackBlock } from './blocks';

/** Which runbook troubleshooting row explains an error code, where one does. */
const BY_CODE: Partial<Record<ErrorCode, TroubleshootingKey>> = {
  store_permission_denied: 'vault_permission_denied',
  issuer_rate_limited: 'rate_limited',
  issuer_rejected: 'provider_rejects_new',
  deploy_failed: 'rollout_incomplete',
  verify_failed: 'app_401_after_rotation',
  old_key_in_use: 'cannot_revoke_old',
  old_key_still_active: 'old_key_active_after_revoke',
  timeout: 'integration_timeout',
};

export function troubleshootingFor(hint?: TroubleshootingKey, code?: string): TroubleshootingRow | undefined {
  const key = hint ?? (code ? BY_CODE[code as ErrorCode] : undefined);
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
