import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import pino from 'pino';
import { createSlackDouble, type SlackDouble } from '../../../sandbox/slack';
import { createReminderProcessor } from '../../../jobs/reminder-job';
import { createWebClient } from '../../../src/adapters/chat/web-client';
import type { InventoryRow } from '../../../src/domain/inventory';
import type { ReminderJobData } from '../../../src/queue/names';
import { SnoozeStore } from '../../../src/queue/snooze-store';
import { Reminders } from '../../../src/slack/reminders';
import { deletePrefix, testRedis } from '../../helpers/redis';
import { MemoryAudit } from '../slack/fake-requests';

const TOKEN = 'xoxb-reminder-job-test';
const TICK = Date.parse('2026-11-30T09:00:00Z');
const late = (name: string, channel: string): InventoryRow => ({
  name,
  path: `api-credentials/${name}`,
  inCatalog: true,
  inVault: true,
  type: 'api_key',
  risk: 'standard',
  channel,
  rotatedAt: '2024-01-01T00:00:00Z',
  status: 'overdue',
});

describe('a reminder tick', () => {
  let slack: SlackDouble;
  const redis = testRedis();
  const prefix = `test-${randomUUID()}`;
  const audit = new MemoryAudit();
  let process: (job: Job<ReminderJobData>) => Promise<unknown>;

  beforeEach(async () => {
    slack = await createSlackDouble({ botToken: TOKEN });
    const clock = { now: () => new Date(TICK) };
    const reminders = new Reminders({
      loadInventory: async () => ({
        generatedAt: new Date(TICK).toISOString(),
        rows: [late('a', 'C_PAYMENTS'), late('b', 'C_SALES')],
        drift: [],
      }),
      snoozes: new SnoozeStore(redis, prefix),
      settings: { securityChannel: 'C_SECURITY', dueSoonDays: 14 },
      clock,
    });
    process = createReminderProcessor({
      reminders,
      redis,
      prefix,
      client: createWebClient({ token: TOKEN, slackApiUrl: slack.url, retryConfig: { retries: 0 } }),
      audit,
      logger: pino({ level: 'silent' }),
      securityChannel: 'C_SECURITY',
    });
  });
  afterEach(async () => {
    await slack.close();
    await deletePrefix(redis, prefix);
  });
  afterAll(() => redis.quit());

  /** What the channel shows: the double keeps only the messages Slack accepted. */
  const digestsTo = (channel: string) => slack.messages(channel);
  const job = (id: string, data: ReminderJobData = {}) =>
    ({ id, data, timestamp: Date.now() }) as Job<ReminderJobData>;

  it("is posted once per channel when the scheduler's job and a missed tick's catch-up both stand for it", async () => {
    const results = await Promise.all([
      process(job(`repeat:reminders:${TICK}`)),
      process(job(`reminders-missed-${TICK}`, { tick: TICK })),
    ]);
    expect(results).toContainEqual({ tick: TICK, skipped: 'claimed by another job' });
    expect(digestsTo('C_PAYMENTS')).toHaveLength(1);
    expect(digestsTo('C_SALES')).toHaveLength(1);
    expect(digestsTo('C_SALES')[0]!.text).toContain('(digest of 2026-11-30T09:00:00.000Z)');
  });

  it('retries only a channel that failed for a while, never reposting the others', async () => {
    // Slack answers the first post (C_PAYMENTS's, channels go in id order) with an HTTP 500, and
    // the client's retries are off: a passing failure.
    slack.faults.add({ method: 'POST', path: '/api/chat.postMessage', status: 500, times: 1 });
    const first = job(`repeat:reminders:${TICK}`);
    await expect(process(first)).rejects.toThrow('reminder digests not posted to C_PAYMENTS');
    expect(digestsTo('C_SALES')).toHaveLength(1);
    expect(digestsTo('C_PAYMENTS')).toHaveLength(0);

    await expect(process(first)).resolves.toMatchObject({ posted: 1, refused: [], channels: 2 });
    expect(digestsTo('C_PAYMENTS')).toHaveLength(1);
    expect(digestsTo('C_SALES')).toHaveLength(1);
    expect(audit.entries.filter((e) => e.action === 'reminder.posted').map((e) => e.detail)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('to C_SALES'),
        expect.stringContaining('to C_PAYMENTS'),
      ]),
    );
  });

  it.each([
    ['is gone', 'channel_not_found', () => slack.removeChannel('C_SALES')],
    ['is archived', 'is_archived', () => slack.addChannel({ id: 'C_SALES', name: 'sales', archived: true })],
    [
      'does not have the bot',
      'not_in_channel',
      () => slack.addChannel({ id: 'C_SALES', name: 'sales', private: true, botMember: false }),
    ],
  ])(
    'sends the digest of a channel that %s to the security channel, with the reason, and is done',
    async (_, code, refuse) => {
      refuse();
      const first = job(`repeat:reminders:${TICK}`);
      await expect(process(first)).resolves.toMatchObject({ posted: 1, refused: ['C_SALES'], channels: 2 });
      expect(digestsTo('C_PAYMENTS')).toHaveLength(1);
      expect(digestsTo('C_SALES')).toHaveLength(0);
      const [security] = digestsTo('C_SECURITY');
      expect(security!.text).toContain('The digest for <#C_SALES> could not be posted there');
      expect(JSON.stringify(security!.blocks)).toContain('*b*');
      expect(audit.entries.filter((e) => e.action === 'reminder.refused')).toContainEqual(
        expect.objectContaining({
          outcome: 'refused',
          detail: expect.stringContaining(`refused by C_SALES (${code}), posted to C_SECURITY`),
        }),
      );
      // A second run of the job (a retry, a catch-up) posts nothing again.
      await expect(process(first)).resolves.toMatchObject({ posted: 0, refused: [] });
      expect(digestsTo('C_SECURITY')).toHaveLength(1);
    },
  );
});
