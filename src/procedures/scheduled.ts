import type { StepName } from '../domain/run';
import type { StepFn } from './context';
import { checkDependencies } from './steps/check-dependencies';
import { deploy } from './steps/deploy';
import { generate } from './steps/generate';
import { notify } from './steps/notify';
import { record } from './steps/record';
import { revokeOld } from './steps/revoke-old';
import { redeployPrevious, restorePrevious, reverifyPrevious, revokeNew } from './steps/rollback';
import { storeNew } from './steps/store-new';
import { verify } from './steps/verify';

/** The scheduled procedure: the runbook's eight steps, then the rollback steps used on failure. */
export const SCHEDULED_PROCEDURE: Record<StepName, StepFn> = {
  'check-dependencies': checkDependencies,
  generate,
  'store-new': storeNew,
  deploy,
  verify,
  'revoke-old': revokeOld,
  record,
  notify,
  'restore-previous': restorePrevious,
  'redeploy-previous': redeployPrevious,
  'reverify-previous': reverifyPrevious,
  'revoke-new': revokeNew,
};
