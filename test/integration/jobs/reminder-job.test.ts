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

  it('retries only the channel Slack refused, never reposting the others', async () => {
    slack.removeChannel('C_SALES');
    const first = job(`repeat:reminders:${TICK}`);
    await expect(process(first)).rejects.toThrow('reminder digests not posted to C_SALES');
    expect(digestsTo('C_PAYMENTS')).toHaveLength(1);

    slack.addChannel({ id: 'C_SALES', name: 'sales' });
    await expect(process(first)).resolves.toMatchObject({ posted: 1, channels: 2 });
    expect(digestsTo('C_PAYMENTS')).toHaveLength(1);
    expect(digestsTo('C_SALES')).toHaveLength(1);
    expect(audit.entries.filter((e) => e.action === 'reminder.posted').map((e) => e.detail)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('to C_SALES'),
        expect.stringContaining('to C_PAYMENTS'),
      ]),
    );
  });
});
