import type { ErrorCode } from './errors';

/** The runbook's Troubleshooting table, keyed so runs and errors can point at a row. */
export interface TroubleshootingRow {
  symptom: string;
  cause: string;
  resolution: string;
}

export const TROUBLESHOOTING = {
  app_401_after_rotation: {
    symptom: 'Application returns 401 after rotation',
    cause: 'New credential not deployed to application',
    resolution:
      'Verify secret sync completed; check external-secrets operator logs; trigger manual sync with kubectl annotate externalsecret <name> force-sync=$(date +%s)',
  },
  app_401_cached: {
    symptom: 'Application returns 401 but credential is correct',
    cause: 'Credential cached in memory',
    resolution: 'Restart the application pod or process; for connection pools, may require pool drain',
  },
  rollout_incomplete: {
    symptom: 'Some requests succeed, others fail',
    cause: 'Rolling restart incomplete',
    resolution: 'Check rollout status with kubectl rollout status; wait for all pods to restart',
  },
  provider_rejects_new: {
    symptom: 'Provider rejects new credential immediately',
    cause: 'Credential format or permissions incorrect',
    resolution:
      'Verify credential was generated with correct permissions; check provider documentation for required scopes',
  },
  cannot_revoke_old: {
    symptom: 'Cannot revoke old credential',
    cause: 'Credential still in use by unknown consumer',
    resolution:
      'Query provider access logs to identify consumer; update dependency map; deploy new credential to missing consumer',
  },
  vault_permission_denied: {
    symptom: 'Vault returns permission denied',
    cause: 'Token lacks update capability',
    resolution: 'Request elevated token or have secrets administrator perform rotation',
  },
  integration_timeout: {
    symptom: 'Integration test times out',
    cause: 'Service not yet restarted or healthy',
    resolution: 'Wait for rollout completion; check pod logs for startup errors',
  },
  rate_limited: {
    symptom: 'Cannot generate new credential at provider',
    cause: 'Rate limit exceeded',
    resolution:
      'Wait for rate limit reset (check provider headers for reset time); request limit increase for rotation operations',
  },
  old_key_active_after_revoke: {
    symptom: 'Old credential appears active after revocation',
    cause: 'Provider propagation delay',
    resolution: 'Some providers take 5-15 minutes to propagate revocation; verify after propagation delay',
  },
  webhook_verification_fails: {
    symptom: 'Webhook verification fails after rotation',
    cause: 'Sender still using old secret',
    resolution:
      "Confirm sender received update; check sender's webhook configuration; extend dual-secret acceptance period",
  },
} as const satisfies Record<string, TroubleshootingRow>;

export type TroubleshootingKey = keyof typeof TROUBLESHOOTING;

/**
 * The row that explains an error code when the error names none itself. The one map: run failures
 * (src/procedures/failure.ts) and Slack error views (src/slack/views/hints.ts) both read it.
 */
export const HINT_BY_CODE: Partial<Record<ErrorCode, TroubleshootingKey>> = {
  store_permission_denied: 'vault_permission_denied',
  issuer_rate_limited: 'rate_limited',
  issuer_rejected: 'provider_rejects_new',
  deploy_failed: 'rollout_incomplete',
  verify_failed: 'app_401_after_rotation',
  old_key_in_use: 'cannot_revoke_old',
  old_key_still_active: 'old_key_active_after_revoke',
  timeout: 'integration_timeout',
};

export const isTroubleshootingKey = (key: unknown): key is TroubleshootingKey =>
  typeof key === 'string' && Object.hasOwn(TROUBLESHOOTING, key);

/** The row an error points at: the one it names, if that row exists, else the default for its code. */
export function hintFor(code: string | undefined, named?: unknown): TroubleshootingKey | undefined {
  if (isTroubleshootingKey(named)) return named;
  return code !== undefined && Object.hasOwn(HINT_BY_CODE, code)
    ? HINT_BY_CODE[code as ErrorCode]
    : undefined;
}
