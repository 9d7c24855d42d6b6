import { buildPlan } from '../../../src/domain/plan';
import { assessAge } from '../../../src/domain/policy';
import { RotatorError } from '../../../src/domain/errors';
import { newRun, type Run } from '../../../src/domain/run';
import {
  APPROVE_ACTION,
  dueView,
  errorView,
  helpView,
  planView,
  progressView,
  REJECT_ACTION,
  statusView,
  summaryView,
} from '../../../src/slack/views';
import { spec } from '../../integration/slack/fake-requests';

const now = new Date('2026-11-26T10:00:00Z');
const s = spec('payment-gateway-api');
const age = assessAge({ type: 'api_key', risk: 'standard', rotatedAt: '2026-08-21T10:00:00Z', now });
const plan = buildPlan({
  spec: s,
  age,
  discovered: [{ namespace: 'payments', deployment: 'mystery-job', via: ['env'] }],
  storedConsumers: ['web-app', 'mobile-backend'],
});
const json = (v: unknown) => JSON.stringify(v);

function run(patch: Partial<Run> = {}): Run {
  const r = newRun({ id: 'run-42', credential: s.name, requester: { kind: 'slack', id: 'U_ALICE' }, now });
  return { ...r, approver: { kind: 'slack', id: 'U_BOB' }, ...patch };
}

describe('planView', () => {
  const view = planView({
    plan,
    approvers: ['U_BOB', 'SAPPROVERS1'],
    requester: 'U_ALICE',
    requestId: 'abc123',
  });

  it('shows credential, type, risk, age against policy and issuer', () => {
    const t = json(view.blocks);
    for (const part of [
      'payment-gateway-api',
      'api_key',
      'standard',
      '97 days old, policy 90 days: overdue',
      'payment-provider.example.com',
    ]) {
      expect(t).toContain(part);
    }
  });

  it('flags drift between declared and found consumers', () => {
    const t = json(view.blocks);
    expect(t).toContain('not found in cluster'); // web-app declared, not discovered
    expect(t).toContain('payments/mystery-job');
    expect(t).toContain('mobile-backend is in the store');
  });

  it('lists each step with what it touches and the consumers that restart', () => {
    const t = json(view.blocks);
    expect(t).toContain('Deploy to consumers');
    expect(t).toContain('restarts: web-app');
    expect(t).toContain('force-sync ExternalSecret payment-gateway-api');
  });

  it('says who may approve and carries only the request id in the buttons', () => {
    const actions = view.blocks.find((b) => b.type === 'actions');
    expect(
      actions && 'elements' in actions ? actions.elements.map((e) => [e.action_id, e.value]) : [],
    ).toEqual([
      [APPROVE_ACTION, 'abc123'],
      [REJECT_ACTION, 'abc123'],
    ]);
    expect(json(view.blocks)).toContain('<!subteam^SAPPROVERS1>');
  });

  it('warns when the summary channel cannot be posted in, and says nothing when it can', () => {
    const problem = 'channel C_PAYMENTS does not exist or the bot cannot see it (channel_not_found)';
    const warned = planView({ plan: { ...plan, channelProblem: problem }, approvers: ['U_BOB'] });
    expect(json(warned.blocks)).toContain(`⚠️ *Summary channel*: ${problem}`);
    expect(json(view.blocks)).not.toContain('Summary channel');
  });

  it('has no buttons as a dry run', () => {
    const dry = planView({ plan, approvers: ['U_BOB'] });
    expect(dry.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(json(dry)).toContain('Dry run');
  });

  it('never contains a value', () => {
    expect(json(view)).not.toContain('admin-token-never-shown');
  });
});

describe('progressView', () => {
  it('renders a checklist with durations', () => {
    const r = run();
    r.steps[0] = {
      ...r.steps[0]!,
      status: 'done',
      startedAt: '2026-11-26T10:00:00Z',
      endedAt: '2026-11-26T10:00:02Z',
    };
    r.steps[1] = { ...r.steps[1]!, status: 'failed' };
    r.steps[2] = { ...r.steps[2]!, status: 'running' };
    const t = json(progressView(r).blocks);
    expect(t).toContain('✓ Check dependencies _(2 s)_');
    expect(t).toContain('✗ Generate new credential');
    expect(t).toContain('⏳ Store new value');
    expect(t).toContain('○ Deploy to consumers');
  });
});

describe('summaryView', () => {
  it('reports outcome, people, version, consumers, revocation, duration and run id', () => {
    const r = run({
      status: 'finished',
      outcome: 'succeeded',
      updatedAt: '2026-11-26T10:03:05Z',
      facts: { newVersion: 7, consumersVerified: ['web-app'], revokedAt: '2026-11-26T10:03:00Z' },
    });
    const t = json(summaryView(r, s));
    for (const part of [
      'Rotated',
      '<@U_ALICE>',
      '<@U_BOB>',
      '*New store version*\\n7',
      'web-app',
      '2026-11-26T10:03:00Z',
      '3 min 5 s',
      'run-42',
    ]) {
      expect(t).toContain(part);
    }
  });

  it('shows the matching troubleshooting row on rollback', () => {
    const r = run({
      status: 'finished',
      outcome: 'rolled_back',
      failure: {
        step: 'verify',
        code: 'verify_failed',
        message: 'web-app returned 401',
        hint: 'app_401_cached',
      },
    });
    const t = json(summaryView(r, s));
    expect(t).toContain('Credential cached in memory');
    expect(t).toContain('Restart the application pod');
  });
});

describe('errorView / helpView / statusView / dueView', () => {
  it('turns a coded error into its message and runbook hint', () => {
    const t = json(errorView(new RotatorError('store_permission_denied', 'Vault denied update on secret/x')));
    expect(t).toContain('Vault denied update');
    expect(t).toContain('Request elevated token');
  });

  it('never shows an unknown error text or stack', () => {
    const t = json(errorView(new Error('boom sk_live_123 at foo.ts:1')));
    expect(t).not.toContain('sk_live_123');
    expect(t).toContain('internal error');
  });

  it('says nothing was started when the queue is down', () => {
    expect(errorView(new RotatorError('queue_unavailable', 'queue unavailable')).text).toMatch(
      /Nothing was started/,
    );
  });

  it('help lists the subcommands; status and due show age', () => {
    expect(json(helpView())).toContain('/rotate history <name>');
    expect(json(statusView({ name: s.name, age }))).toContain('overdue');
    const due = dueView([
      { name: 'b-ok', age: { ...age, status: 'ok' } },
      { name: 'a-late', age },
    ]);
    expect(json(due.blocks).indexOf('a-late')).toBeLessThan(json(due.blocks).indexOf('b-ok'));
  });

  it("status says when the last run's summary never reached its channel, and why", () => {
    const notifyError = 'Slack refused the summary in C_PAYMENTS (not_in_channel): I can’t post there';
    const t = json(
      statusView({ name: s.name, age, last: run({ status: 'finished', outcome: 'succeeded', notifyError }) }),
    );
    expect(t).toContain('Summary not posted: Slack refused the summary in C_PAYMENTS (not_in_channel)');
    expect(json(statusView({ name: s.name, age, last: run({ status: 'finished' }) }))).not.toContain(
      'Summary not posted',
    );
  });
});
