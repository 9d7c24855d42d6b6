import pino from 'pino';
import { createSlackDouble, type SlackDouble } from '../../../sandbox/slack';
import { createWebClient } from '../../../src/adapters/chat/slack-notifier';
import { isRotatorError } from '../../../src/domain/errors';
import { newRun, type Run } from '../../../src/domain/run';
import { createIncidentChannel } from '../../../src/slack/incident-channel';

const TOKEN = 'xoxb-incident';
let double: SlackDouble;

beforeEach(async () => {
  double = await createSlackDouble({ botToken: TOKEN });
});
afterEach(() => double.close());

const channel = () =>
  createIncidentChannel({
    client: createWebClient({
      token: TOKEN,
      slackApiUrl: double.url,
      logger: pino({ level: 'silent' }),
      retryConfig: { retries: 0 },
    }),
    securityChannel: 'C_SECURITY',
  });

const run = (): Run =>
  newRun({
    id: 'run-9',
    credential: 'payment-gateway-api',
    requester: { kind: 'slack', id: 'U_RESP' },
    procedure: 'emergency',
    incident: { ref: 'INC-2024-0042', channel: 'C_INC_2024_0042' },
    now: new Date(),
  });

const posts = () => double.calls().filter((c) => c.method === 'chat.postMessage');

describe('IncidentChannel on Slack', () => {
  it('escalates at once to the incident channel with the runbook row for the hint', async () => {
    await channel().escalate(run(), {
      text: '⚠ `payment-gateway-api`: web-app still answers 401',
      hint: 'app_401_cached',
    });
    expect(posts().map((c) => c.args.channel)).toEqual(['C_INC_2024_0042']);
    const text = JSON.stringify(posts()[0]!.args.blocks);
    expect(text).toContain('web-app still answers 401');
    expect(text).toContain('Runbook: Application returns 401 but credential is correct');
    expect(text).toContain('Restart the application pod or process');
  });

  it('copies a security escalation to the security channel', async () => {
    await channel().escalate(run(), { text: 'half the deadline has passed', security: true });
    expect(posts().map((c) => c.args.channel)).toEqual(['C_INC_2024_0042', 'C_SECURITY']);
  });

  it('posts the incident record in the runbook’s format', async () => {
    await channel().record(run(), {
      incident: 'INC-2024-0042',
      credential: 'payment-gateway-api',
      compromisedKeyIds: ['key_old'],
      newKeyId: 'key_new',
      revokedAt: '2026-11-27T08:40:00Z',
      deployedAt: '2026-11-27T08:41:00Z',
      verification: 'complete',
      rotatedBy: 'slack:U_RESP',
      earliestSuspicious: '2026-11-26T23:12:00Z',
      scope: 'done',
    });
    const text = JSON.stringify(posts()[0]!.args.blocks);
    expect(text).toContain('Emergency Credential Rotation');
    expect(text).toContain('Revoked: 2026-11-27T08:40:00Z');
    expect(text).toContain('Verification complete: [complete]');
    expect(text).toContain('Earliest suspicious use: 2026-11-26T23:12:00Z');
  });

  it('throws a coded error when Slack refuses, so the engine knows', async () => {
    double.faults.add({
      method: 'POST',
      path: '/api/chat.postMessage',
      status: 200,
      body: { ok: false, error: 'not_in_channel' },
      times: 1,
    });
    const e = await channel()
      .escalate(run(), { text: 'x' })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(isRotatorError(e) && e.context.slackError).toBe('not_in_channel');
    expect(isRotatorError(e) && e.transient).toBe(false);
  });
});
