import type { KeyStatus } from './ports';
import type { Run } from './run';

/** A credential Vault shows mid-rotation (previous_key kept) that no live run is finishing. */
export interface HalfRotated {
  kind: 'half_rotated';
  credential: string;
  /** The Vault version reported: a button acts only while Vault is still at it. */
  version: number;
  rotatedAt?: string;
  rotatedBy?: string;
  /** The run marker on that version, and what the bot still knows of that run. */
  runId?: string;
  runState: 'unknown' | NonNullable<Run['outcome']> | Run['status'];
  newKeyId?: string;
  oldKeyId?: string;
  /** The old key's status at the issuer, when it could be asked. */
  oldKeyStatus?: KeyStatus;
  /** Rolling back is only offered while the previous key still works. */
  canRollBack: boolean;
}
