import { randomUUID } from 'node:crypto';
import type { Job } from 'bullmq';
import { createDeadlineProcessor } from '../../../jobs/deadline-job';
import type { IncidentChannel } from '../../../src/domain/ports';
import { newRun, type Run } from '../../../src/domain/run';
import type { DeadlineJobData } from '../../../src/queue/names';
import { RunStore } from '../../../src/queue/run-store';
import { MemoryAudit } from '../slack/fake-requests';
import { deletePrefix, testRedis } from '../../helpers/redis';

describe('the emergency deadline job', () => {
  const redis = testRedis();
  let prefix: string;
  let runs: RunStore;
  const posted: Array<{ run: string; text: string; security: boolean }> = [];
  const incidents: IncidentChannel = {
    escalate: async (run: Run, m) => void posted.push({ run: run.id, text: m.text, security: !!m.security }),
    record: async () => undefined,
  };
  beforeEach(() => {
    prefix = `test-${randomUUID()}`;
    runs = new RunStore(redis, prefix);
    posted.length = 0;
  });
  afterEach(() => deletePrefix(redis, prefix));
  afterAll(() => redis.disconnect());

  const job = (data: DeadlineJobData) => ({ data }) as Job<DeadlineJobData>;
  const emergency = () =>
    newRun({
      id: randomUUID(),
      credential: 'payment-gateway-api',
      requester: { kind: 'slack', id: 'U0ERIN' },
      procedure: 'emergency',
      incident: { ref: 'INC-2024-0042', channel: 'C_INC' },
      now: new Date(),
    });

  it('escalates an unfinished run to the security channel, half-way and at the deadline, and audits it', async () => {
    const run = emergency();
    run.steps[4]!.status = 'waiting';
    run.steps[4]!.detail = 'rolling out web-app';
    await runs.save(run);
    const audit = new MemoryAudit();
    const process = createDeadlineProcessor({ runs, audit, incidents });
    expect(await process(job({ runId: run.id, kind: 'half', deadlineMs: 900_000 }))).toBe('escalated');
    expect(await process(job({ runId: run.id, kind: 'deadline', deadlineMs: 900_000 }))).toBe('escalated');
    expect(posted).toHaveLength(2);
    expect(posted.every((p) => p.security)).toBe(true);
    expect(posted[0]!.text).toMatch(/half-way to its 15 min deadline.*at deploy \(rolling out web-app\)/);
    expect(posted[1]!.text).toMatch(/missed its 15 min deadline/);
    expect(audit.entries.map((e) => e.action)).toEqual(['emergency.deadline', 'emergency.deadline']);
  });

  it('says nothing for a finished run', async () => {
    const run = emergency();
    run.status = 'finished';
    await runs.save(run);
    const process = createDeadlineProcessor({ runs, audit: new MemoryAudit(), incidents });
    expect(await process(job({ runId: run.id, kind: 'deadline', deadlineMs: 900_000 }))).toBe('finished');
    expect(posted).toEqual([]);
  });
});
