/**
 * What no API rotates (an admin console, an Azure or GCP key created by hand): a person creates the
 * new value, writes it to Vault and revokes the old one; the bot guides, checks, deploys and verifies.
 */
export interface ManualIssuerSpec {
  kind: 'manual';
  name: string;
  /** Where the person creates and revokes keys. */
  consoleUrl?: string;
  /** The runbook's steps at that console, shown as the thread's checklist. */
  steps: string[];
  /**
   * A URL that answers 2xx to a request bearing an accepted value and 401/403 otherwise (the
   * runbook's "attempt to use old credential"): proves the new value works and the old is rejected.
   */
  testUrl?: string;
}
