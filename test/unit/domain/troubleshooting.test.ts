import { RotatorError, type ErrorCode } from '../../../src/domain/errors';
import { newRun } from '../../../src/domain/run';
import { HINT_BY_CODE, TROUBLESHOOTING, hintFor } from '../../../src/domain/troubleshooting';
import { failureOf } from '../../../src/procedures/failure';
import { errorView } from '../../../src/slack/views/error-view';
import { summaryView } from '../../../src/slack/views/summary-view';
import { specFixture } from '../../helpers/fixtures';

const CODES = Object.keys(HINT_BY_CODE) as ErrorCode[];

describe('hintFor', () => {
  it('prefers the row the error names', () => {
    expect(hintFor('verify_failed', 'app_401_cached')).toBe('app_401_cached');
  });

  it('falls back to the code when the named row does not exist', () => {
    expect(hintFor('verify_failed', 'no_such_row')).toBe('app_401_after_rotation');
    expect(hintFor('verify_failed', 'toString')).toBe('app_401_after_rotation');
  });

  it('has nothing for a code without a row, nor for an inherited property name', () => {
    expect(hintFor('store_unavailable')).toBeUndefined();
    expect(hintFor('constructor')).toBeUndefined();
    expect(hintFor(undefined)).toBeUndefined();
  });

  it('only points at rows that exist', () => {
    for (const key of Object.values(HINT_BY_CODE)) expect(TROUBLESHOOTING).toHaveProperty([key!]);
  });
});

describe('one hint map for runs and Slack', () => {
  const step = { name: 'verify' as const, phase: 'forward' as const, status: 'running' as const };

  it.each(CODES)('a run failing with %s and the error view show the same runbook row', (code) => {
    const row = TROUBLESHOOTING[HINT_BY_CODE[code]!];
    const failure = failureOf(step, new RotatorError(code, 'it broke'));
    expect(failure.hint).toBe(HINT_BY_CODE[code]);

    const run = {
      ...newRun({ id: 'r1', credential: 'x1', requester: { kind: 'cli', id: 'a' }, now: new Date(0) }),
      status: 'finished' as const,
      outcome: 'failed' as const,
      failure: { step: failure.step, code: failure.code, message: failure.message },
    };
    expect(JSON.stringify(summaryView(run, specFixture()))).toContain(row.symptom);
    expect(JSON.stringify(errorView(new RotatorError(code, 'it broke')))).toContain(row.symptom);
  });
});
