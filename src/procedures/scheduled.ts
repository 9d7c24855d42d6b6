import type { Procedure, StepName } from '../domain/run';
import type { StepFn } from './context';
import { checkDependencies } from './steps/check-dependencies';
import { deploy } from './steps/deploy';
import {
  assessScope,
  incidentRecord,
  revokeCompromised,
  storeEmergency,
  verifyEmergency,
} from './steps/emergency';
import { generate, generateEmergency } from './steps/generate';
import { awaitRevoked, awaitStored, revokeNewManual, verifyManual } from './steps/manual';
import { notify } from './steps/notify';
import { record } from './steps/record';
import { revokeOld } from './steps/revoke-old';
import { redeployPrevious, restorePrevious, reverifyPrevious, revokeNew } from './steps/rollback';
import { storeNew } from './steps/store-new';
import { verify } from './steps/verify';

/** Every step by name: the scheduled procedure's eight, the rollback's four, the emergency's own. */
export const STEPS: Record<StepName, StepFn> = {
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
  'assess-scope': assessScope,
  'revoke-compromised': revokeCompromised,
  'incident-record': incidentRecord,
  'await-stored': awaitStored,
  'await-revoked': awaitRevoked,
};

/** The step function a run uses: an emergency stores, verifies its own way (no previous key, no rollback). */
export function stepFor(procedure: Procedure, name: StepName): StepFn {
  if (procedure === 'emergency' && name === 'generate') return generateEmergency;
  if (procedure === 'emergency' && name === 'store-new') return storeEmergency;
  if (procedure === 'emergency' && name === 'verify') return verifyEmergency;
  if (procedure === 'manual' && name === 'verify') return verifyManual;
  if (procedure === 'manual' && name === 'revoke-new') return revokeNewManual;
  return STEPS[name];
}
