import type { CredentialSpec } from '../domain/credential';
import type { AgeAssessment } from '../domain/policy';
import type { StoredCredential } from '../domain/ports';
import { mapLimit } from './bounded';

/** One line of `/rotate due`: a credential's age and whether a run holds it. */
export interface DueStatus {
  name: string;
  age: AgeAssessment;
  active: boolean;
}

export interface DueDeps {
  specs: CredentialSpec[];
  read(spec: CredentialSpec): Promise<StoredCredential | undefined>;
  /** Lock holders of the named credentials, in order (pipelined, not one round trip each). */
  lockHolders(names: string[]): Promise<Array<string | undefined>>;
  ageOf(spec: CredentialSpec, stored: StoredCredential | undefined): AgeAssessment;
  /** Store reads in flight at once (default 16). */
  concurrency?: number;
}

export const DUE_READ_CONCURRENCY = 16;

/**
 * Every credential's due status, bounded in memory and round trips: at most `concurrency` store
 * reads in flight, each reduced at once to its age (the read value is dropped), and the lock
 * holders in one pipelined pass. Run history is not read: `/rotate due` needs only "a run is in
 * progress", and reading five runs per credential is what took 10,000 credentials to 1.1 GB.
 */
export async function dueStatuses(deps: DueDeps): Promise<DueStatus[]> {
  const names = deps.specs.map((s) => s.name);
  const [holders, ages] = await Promise.all([
    deps.lockHolders(names),
    mapLimit(deps.specs, deps.concurrency ?? DUE_READ_CONCURRENCY, async (spec) =>
      deps.ageOf(spec, await deps.read(spec)),
    ),
  ]);
  return deps.specs.map((spec, i) => ({ name: spec.name, age: ages[i]!, active: holders[i] !== undefined }));
}
