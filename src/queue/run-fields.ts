import type { Run, RunFacts, StepState } from '../domain/run';

/** A run record as hash fields: name → JSON value. */
export type RecordFields = Map<string, string>;

const STEP = 'step:';
const FACT = 'fact:';

/**
 * One field per top-level property, per step (`step:<index>`) and per fact (`fact:<name>`), so a
 * step's progress or one checkpointed fact is a write of its own field. Undefined values are left
 * out, as JSON leaves them out.
 */
export function recordFields(run: Run): RecordFields {
  const fields: RecordFields = new Map();
  const put = (name: string, value: unknown) => {
    if (value !== undefined) fields.set(name, JSON.stringify(value));
  };
  const { steps, facts, ...head } = run;
  for (const [name, value] of Object.entries(head)) put(name, value);
  steps.forEach((step, i) => put(`${STEP}${i}`, step));
  for (const [name, value] of Object.entries(facts)) put(`${FACT}${name}`, value);
  return fields;
}

/** The run the fields describe (see `recordFields`). */
export function runFromFields(hash: Record<string, string>): Run {
  const head: Record<string, unknown> = {};
  const steps: Array<[number, StepState]> = [];
  const facts: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(hash)) {
    const value: unknown = JSON.parse(text);
    if (name.startsWith(STEP)) steps.push([Number(name.slice(STEP.length)), value as StepState]);
    else if (name.startsWith(FACT)) facts[name.slice(FACT.length)] = value;
    else head[name] = value;
  }
  steps.sort((a, b) => a[0] - b[0]);
  return { ...head, steps: steps.map(([, s]) => s), facts: facts as RunFacts } as Run;
}
