import type { StepName } from './run';

/** How each step is named to people: plans, progress checklists, summaries, the CLI. */
export const STEP_TITLES: Record<StepName, string> = {
  'check-dependencies': 'Check dependencies',
  generate: 'Generate new credential',
  'store-new': 'Store new value (keep previous)',
  deploy: 'Deploy to consumers',
  verify: 'Verify every consumer',
  'revoke-old': 'Revoke old credential',
  record: 'Update metadata and audit',
  notify: 'Notify stakeholders',
  'restore-previous': 'Restore previous value',
  'redeploy-previous': 'Redeploy previous value',
  'reverify-previous': 'Re-verify with previous value',
  'revoke-new': 'Revoke new credential',
  'assess-scope': 'Assess compromise scope',
  'revoke-compromised': 'Revoke compromised credential',
  'incident-record': 'Write the incident record',
  'await-stored': 'New key created and stored in Vault (by a person)',
  'await-revoked': 'Old key revoked at the console (by a person)',
};

/** Display title of a step; unknown names (steps added later) show as themselves. */
export const stepTitle = (name: string): string => STEP_TITLES[name as StepName] ?? name;
