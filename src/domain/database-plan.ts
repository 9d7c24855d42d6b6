import { DEFAULT_DRAIN_TIMEOUT_MS, type CredentialSpec, type DatabaseIssuerSpec } from './credential';

/** The runbook: credentials that require a service restart are coordinated 48 hours in advance. */
export const RESTART_NOTICE_HOURS = 48;

const isDatabase = (i: CredentialSpec['issuer']): i is DatabaseIssuerSpec =>
  i.kind === 'postgres' || i.kind === 'mariadb';

/** What a plan must say before a database credential is approved: the strategy and its window. */
export function databaseNotices(spec: CredentialSpec): string[] {
  const i = spec.issuer;
  if (!isDatabase(i)) return [];
  if (i.strategy === 'single_user') {
    return [
      `Single user ${i.users[0]}: its password changes in place, so the old one stops working at once and every consumer fails until it restarts. Run inside a maintenance window, and tell the affected teams ${RESTART_NOTICE_HOURS} hours in advance (runbook: credentials requiring a service restart).`,
    ];
  }
  return [
    `Alternating users ${i.users.join(' / ')}: the idle user gets the new password and consumers switch to it; the current login keeps working until every consumer has moved, then it is locked once the connections still open on it have closed (connection pools may require pool drain; the run waits up to ${Math.round((i.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS) / 60_000)} minute(s) for them).`,
  ];
}

/** The plan's generate and revoke-old lines for a database credential; undefined for other issuers. */
export function databaseTouches(spec: CredentialSpec): { generate: string[]; revoke: string[] } | undefined {
  const i = spec.issuer;
  if (!isDatabase(i)) return undefined;
  const server = `${i.kind} ${i.name}`;
  return i.strategy === 'single_user'
    ? {
        generate: [`new password for ${i.users[0]} at ${server} (the old one stops working now)`],
        revoke: [`old password refused at login; sessions still open on it reported`],
      }
    : {
        generate: [`new password for the idle user of ${i.users.join(' / ')} at ${server}`],
        revoke: [`lock the old user once no session is open on it`, 'old login refused'],
      };
}
