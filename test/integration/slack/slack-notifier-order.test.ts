import { newRun, type Run } from '../../../src/domain/run';
import { eventually } from '../../helpers/eventually';
import { spec } from './fake-requests';
import { notifyWorld, type NotifyWorld } from './notify-world';

const T0 = Date.parse('2026-11-26T10:00:00Z');
const THREAD = '1732650000.000100';
let w: NotifyWorld;

beforeEach(async () => {
  w = await notifyWorld();
});
afterEach(() => w.close());

/** The run as the engine saves it with `done` steps finished and the next one running, `done` seconds in. */
function state(done: number): Run {
  const run = newRun({
    id: 'run-1',
    credential: 'payment-gateway-api',
    requester: { kind: 'slack', id: 'U0ALICE' },
    approver: { kind: 'slack', id: 'U0BOB' },
    now: new Date(T0),
    slack: { channel: 'C_PLATFORM', threadTs: THREAD },
  });
  run.status = done >= 8 ? 'finished' : 'running';
  if (done >= 7) run.outcome = 'succeeded';
  run.updatedAt = new Date(T0 + done * 1_000).toISOString();
  run.steps.forEach((s, i) => {
    if (i < done) Object.assign(s, { status: 'done', startedAt: run.createdAt, endedAt: run.updatedAt });
    else if (i === done) Object.assign(s, { status: 'running', startedAt: run.updatedAt });
  });
  return run;
}

/** Every chat.update to reach the double lands 300 ms late, like Slack under load. */
const slowUpdates = () => w.double.faults.add({ method: 'POST', path: '/api/chat.update', latencyMs: 300 });
const thread = () => w.double.messages('C_PLATFORM').filter((m) => m.threadTs === THREAD);
const firstWords = () => thread().map((m) => m.text?.split(' (')[0]);
const progressMessage = () => thread().find((m) => m.text?.startsWith('Rotation of'));
const summary = () => w.notifier.summary(state(7), spec('payment-gateway-api'));

describe('the progress message and the summary, with chat.update delayed', () => {
  it('the thread reads progress then summary, and the progress message ends at the finished state', async () => {
    await w.report(state(0));
    await eventually(() => progressMessage());
    slowUpdates();
    for (let i = 1; i <= 6; i++) await w.report(state(i));
    await w.report(state(7)); // notify running
    await summary();
    await w.report(state(8)); // the engine's last save and report
    await eventually(() => thread().length === 2 && progressMessage()?.text?.endsWith('8/8 steps done'));
    expect(firstWords()).toEqual([
      'Rotation of payment-gateway-api: 8/8 steps done',
      '✓ Rotated: payment-gateway-api',
    ]);
    expect(JSON.stringify(progressMessage()?.blocks)).toContain('Rotation of *payment-gateway-api*: done');
  });

  it('edits only ever move forward: each shows the newest state saved when it was sent', async () => {
    await w.report(state(0));
    await eventually(() => progressMessage());
    slowUpdates();
    for (let i = 1; i <= 8; i++) await w.report(state(i));
    await eventually(() => progressMessage()?.text?.endsWith('8/8 steps done'), 10_000);
    const shown = w.double
      .calls()
      .filter((c) => c.method === 'chat.update')
      .map((c) => Number(/: (\d)\/8 steps done/.exec(String(c.args.text))?.[1]));
    expect(shown).toEqual([...shown].sort());
    expect(shown.at(-1)).toBe(8);
  });

  it('a run whose summary is queued before its first progress post never gets a progress message', async () => {
    // Slack was down for the run's first reports: nothing posted, a render waits for the channel.
    w.double.rateLimit('chat.postMessage', 1, 1);
    await w.report(state(0));
    await eventually(() => w.double.calls().some((c) => c.status === 429));
    await w.report(state(7));
    await summary();
    await w.report(state(8));
    await eventually(() => thread().length === 1);
    await w.settled();
    expect(firstWords()).toEqual(['✓ Rotated: payment-gateway-api']);
    expect(await w.progress.message('run-1')).toBeUndefined();
  });
});
