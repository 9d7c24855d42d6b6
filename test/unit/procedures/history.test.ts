import type { AuditEntry } from '../../../src/domain/ports';
import { runHistory } from '../../../src/procedures/history';

/** Audit entries as the engine and the service write them, most recent first (as `recent` returns). */
function trail(entries: Array<AuditEntry & { time: string }>) {
  const sorted = [...entries].sort((a, b) => (a.time < b.time ? 1 : -1));
  return { recent: async () => sorted };
}
const e = (runId: string, time: string, action: string, rest: Partial<AuditEntry> = {}) => ({
  runId,
  credential: 'payment-gateway-api',
  action,
  outcome: 'info' as const,
  identity: 'slack:U0ALICE',
  time,
  ...rest,
});

describe('runHistory', () => {
  it('tells each run: procedure, outcome, people, start, duration and the versions it wrote', async () => {
    const audit = trail([
      e('r1', '2026-11-01T10:00:00.000Z', 'run.requested', { detail: 'approved by slack:U0BOB' }),
      e('r1', '2026-11-01T10:00:05.000Z', 'step.completed', {
        step: 'store-new',
        detail: 'secret/api-credentials/payment-gateway-api version 5 (previous kept)',
      }),
      e('r1', '2026-11-01T10:00:09.000Z', 'step.completed', {
        step: 'verify',
        detail: 'version 9 of nothing',
      }),
      e('r1', '2026-11-01T10:02:00.000Z', 'step.completed', {
        step: 'record',
        detail: 'secret/api-credentials/payment-gateway-api version 6: previous_key cleared',
      }),
      e('r1', '2026-11-01T10:02:10.000Z', 'run.finished', { detail: 'succeeded' }),
      e('r2', '2026-11-20T08:00:00.000Z', 'emergency.started', {
        identity: 'slack:U0ERIN',
        detail: 'incident INC-2026-0007 in C_INC',
      }),
      e('r2', '2026-11-20T08:01:00.000Z', 'run.finished', { detail: 'failed: verification pending' }),
      e('r3', '2026-11-25T08:00:00.000Z', 'run.requested', {
        identity: 'cli:bob',
        detail: 'rollback of secret/api-credentials/payment-gateway-api version 8',
      }),
      {
        credential: 'payment-gateway-api',
        action: 'run.refused',
        outcome: 'refused' as const,
        identity: 'x',
        time: '2026-11-26T00:00:00.000Z',
      },
    ]);
    const [rollback, emergency, scheduled] = await runHistory(audit, 'payment-gateway-api');
    expect(scheduled).toEqual({
      runId: 'r1',
      procedure: 'scheduled',
      outcome: 'succeeded',
      requester: 'slack:U0ALICE',
      approver: 'slack:U0BOB',
      startedAt: '2026-11-01T10:00:00.000Z',
      finishedAt: '2026-11-01T10:02:10.000Z',
      durationMs: 130_000,
      versions: [5, 6],
    });
    expect(emergency).toMatchObject({
      procedure: 'emergency',
      outcome: 'failed',
      requester: 'slack:U0ERIN',
      incident: 'INC-2026-0007',
    });
    expect(rollback).toMatchObject({ procedure: 'rollback', requester: 'cli:bob', versions: [] });
    expect(rollback!.outcome).toBeUndefined();
    expect(await runHistory(audit, 'payment-gateway-api', 1)).toHaveLength(1);
  });
});
