import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { createRequestProcessor } from '../../../jobs/request-job';
import { rotateCli } from '../../../src/cli/rotate';
import { withdraw } from '../../../src/cli/rotate-withdraw';
import { RotatorError } from '../../../src/domain/errors';
import type { Plan } from '../../../src/domain/plan';
import { newRun } from '../../../src/domain/run';
import type { RotationRequests } from '../../../src/procedures/types';
import { REQUESTS_QUEUE, type RequestJobData } from '../../../src/queue/names';
import { RunStore } from '../../../src/queue/run-store';
import { eventually } from '../../helpers/eventually';
import { deletePrefix, REDIS_URL, testRedis } from '../../helpers/redis';

/** A plan as a worker answers it (ids and names only), with one consumer and one step. */
const PLAN = {
  credential: 'payment-gateway-api',
  type: 'api_key',
  risk: 'high',
  issuer: 'payment-provider.example.com',
  store: 'secret/api-credentials/payment-gateway-api',
  age: { status: 'overdue', ageDays: 40, maxAgeDays: 30 },
  consumers: [{ name: 'web-app', action: 'restart', where: 'payments/web-app' }],
  undeclared: [],
  missing: [],
  drift: [],
  steps: [{ title: 'Generate new credential', touches: ['new key at payment-provider.example.com'] }],
  approvers: [],
  notices: [],
} as unknown as Plan;

/** A RotationRequests that records what it was asked to start (the worker's side of the CLI). */
function recordingRequests(): RotationRequests & { started: string[] } {
  const started: string[] = [];
  return {
    started,
    credentialNames: () => ['payment-gateway-api'],
    spec: () => {
      throw new Error('not used');
    },
    plan: () => Promise.reject(new Error('not used')),
    start: async (input) => {
      started.push(input.credential);
      return { id: `run-${started.length}` } as Awaited<ReturnType<RotationRequests['start']>>;
    },
    recover: () => Promise.reject(new Error('not used')),
    due: () => Promise.reject(new Error('not used')),
    emergencyScope: () => Promise.reject(new Error('not used')),
    startEmergency: () => Promise.reject(new Error('not used')),
    incidentRuns: () => Promise.reject(new Error('not used')),
    status: () => Promise.reject(new Error('not used')),
    getRun: async () => undefined,
    history: async () => [],
    pastRuns: async () => [],
    inventory: () => Promise.reject(new Error('not used')),
    dashboard: () => Promise.reject(new Error('not used')),
  };
}

describe('the break-glass CLI and its deadline', () => {
  const redis = testRedis();
  const blocking = testRedis(); // workers and queue events block on their own connection
  let prefix: string;
  let errors: string[];
  let lines: string[];
  beforeEach(() => {
    prefix = `test-${randomUUID()}`;
    errors = [];
    lines = [];
    jest.spyOn(console, 'error').mockImplementation((m: unknown) => void errors.push(String(m)));
    jest.spyOn(console, 'log').mockImplementation((m: unknown) => void lines.push(String(m)));
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await deletePrefix(redis, prefix);
  });
  afterAll(() => {
    redis.disconnect();
    blocking.disconnect();
  });

  /** A worker answering the CLI's requests with `requests` while `body` runs, closed after it. */
  async function withRequestWorker(
    requests: Parameters<typeof createRequestProcessor>[0],
    body: () => Promise<void>,
  ): Promise<void> {
    const worker = new Worker<RequestJobData>(REQUESTS_QUEUE, createRequestProcessor(requests), {
      connection: blocking,
      prefix,
    });
    try {
      await worker.waitUntilReady();
      await body();
    } finally {
      await worker.close();
    }
  }

  describe('when no worker answers before the CLI gives up', () => {
    it('exits 3, withdraws the request, and a worker that starts later rotates nothing', async () => {
      const code = await rotateCli(['payment-gateway-api'], { redisUrl: REDIS_URL, prefix, waitMs: 800 });
      expect(code).toBe(3);
      expect(errors.join('\n')).toContain('nothing was started');

      const requests = recordingRequests();
      const worker = new Worker<RequestJobData>(REQUESTS_QUEUE, createRequestProcessor(requests), {
        connection: blocking,
        prefix,
      });
      const queue = new Queue<RequestJobData>(REQUESTS_QUEUE, { connection: redis, prefix });
      try {
        await worker.waitUntilReady();
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
        expect(counts).toEqual({ waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
        expect(requests.started).toEqual([]);
      } finally {
        await worker.close();
        await queue.close();
      }
    });
  });

  describe('when a worker takes a request whose CLI has already gone', () => {
    it('refuses it and starts nothing', async () => {
      const requests = recordingRequests();
      const queue = new Queue<RequestJobData>(REQUESTS_QUEUE, { connection: redis, prefix });
      const events = new QueueEvents(REQUESTS_QUEUE, { connection: blocking, prefix });
      const worker = new Worker<RequestJobData>(REQUESTS_QUEUE, createRequestProcessor(requests), {
        connection: blocking,
        prefix,
      });
      try {
        await events.waitUntilReady();
        const late = await queue.add('rotate', {
          kind: 'rotate',
          credential: 'payment-gateway-api',
          user: 'alice',
          deadline: Date.now() - 1,
        });
        await expect(late.waitUntilFinished(events, 5_000)).rejects.toThrow(/stopped waiting/);
        const timely = await queue.add('rotate', {
          kind: 'rotate',
          credential: 'payment-gateway-api',
          user: 'alice',
          deadline: Date.now() + 30_000,
        });
        await expect(timely.waitUntilFinished(events, 5_000)).resolves.toEqual({
          kind: 'rotate',
          runId: 'run-1',
        });
        expect(requests.started).toEqual(['payment-gateway-api']);
      } finally {
        await worker.close();
        await events.close();
        await queue.close();
      }
    });
  });

  describe('when a worker answers a dry run', () => {
    it('prints the plan and exits 0', async () => {
      const requests = { ...recordingRequests(), plan: async () => PLAN };
      await withRequestWorker(requests, async () => {
        const code = await rotateCli(['payment-gateway-api', '--dry-run'], { redisUrl: REDIS_URL, prefix });
        expect(code).toBe(0);
        expect(lines).toEqual(
          expect.arrayContaining([
            'Plan for payment-gateway-api (api_key, high risk, issuer payment-provider.example.com)',
            '  consumer web-app: restart (payments/web-app)',
          ]),
        );
        expect(requests.started).toEqual([]);
      });
    });
  });

  describe('when the CLI loses its connection while it waits for the answer', () => {
    it('connects again and still reads the answer', async () => {
      const killed: string[] = [];
      const requests = {
        ...recordingRequests(),
        plan: async () => {
          // The CLI is the only client blocked reading the events stream.
          const reading = await eventually(async () => {
            const list = String(await redis.call('CLIENT', 'LIST', 'TYPE', 'normal'));
            return list.split('\n').find((l) => / cmd=xread /.test(l));
          });
          const id = /\bid=(\d+)/.exec(reading)![1]!;
          await redis.call('CLIENT', 'KILL', 'ID', id);
          killed.push(id);
          // Answered well after the loss: a CLI that gave up at the loss would find the request taken.
          await new Promise((r) => setTimeout(r, 1_500));
          return PLAN;
        },
      };
      await withRequestWorker(requests, async () => {
        const code = await rotateCli(['payment-gateway-api', '--dry-run'], { redisUrl: REDIS_URL, prefix });
        expect(killed).toHaveLength(1);
        expect(code).toBe(0);
        expect(lines[0]).toBe(
          'Plan for payment-gateway-api (api_key, high risk, issuer payment-provider.example.com)',
        );
      });
    });
  });

  describe('when the worker refuses the request', () => {
    it('prints the reason and exits 2', async () => {
      const requests = {
        ...recordingRequests(),
        plan: () =>
          Promise.reject(new RotatorError('unknown_credential', 'no credential named payment-gateway-api')),
      };
      await withRequestWorker(requests, async () => {
        const code = await rotateCli(['payment-gateway-api', '--dry-run'], { redisUrl: REDIS_URL, prefix });
        expect(code).toBe(2);
        expect(errors).toEqual(['no credential named payment-gateway-api']);
      });
    });
  });

  describe('when the CLI gives up on a request a worker has already answered', () => {
    it('takes that answer and leaves the request where it is', async () => {
      const requests = recordingRequests();
      const queue = new Queue<RequestJobData>(REQUESTS_QUEUE, { connection: redis, prefix });
      const worker = new Worker<RequestJobData>(REQUESTS_QUEUE, createRequestProcessor(requests), {
        connection: blocking,
        prefix,
      });
      try {
        const job = await queue.add('rotate', {
          kind: 'rotate',
          credential: 'payment-gateway-api',
          user: 'alice',
          deadline: Date.now() + 30_000,
        });
        await eventually(async () => ((await job.getState()) === 'completed' ? true : undefined));
        await expect(withdraw(queue, job)).resolves.toEqual({ kind: 'rotate', runId: 'run-1' });
        expect(await job.getState()).toBe('completed');
      } finally {
        await worker.close();
        await queue.close();
      }
    });
  });

  describe('when a worker starts the rotation', () => {
    it('follows the run, printing each step as it changes, and exits 0 once it succeeded', async () => {
      const runs = new RunStore(redis, prefix);
      const run = newRun({
        id: randomUUID(),
        credential: 'payment-gateway-api',
        requester: { kind: 'cli', id: 'alice', name: 'alice' },
        now: new Date(),
      });
      const requests = {
        ...recordingRequests(),
        start: async () => {
          await runs.save(run);
          return run;
        },
      };
      await withRequestWorker(requests, async () => {
        const exits: number[] = [];
        const cli = rotateCli(['payment-gateway-api'], {
          redisUrl: REDIS_URL,
          prefix,
          exit: (code) => void exits.push(code),
        });
        await eventually(() => lines.some((l) => l.startsWith('Rotation of payment-gateway-api started')));
        run.status = 'running';
        run.steps[0]!.status = 'done';
        run.steps[0]!.detail = 'checked';
        await runs.save(run);
        await eventually(() => lines.includes(`  ✓ ${run.steps[0]!.name}: checked`));
        run.status = 'finished';
        run.outcome = 'succeeded';
        await runs.save(run);
        await expect(cli).resolves.toBe(0);
        expect(exits).toEqual([0]);
        expect(lines).toEqual([
          `Rotation of payment-gateway-api started as run ${run.id} (audit identity cli:${userInfo().username})`,
          `  ✓ ${run.steps[0]!.name}: checked`,
          'Outcome: succeeded',
        ]);
      });
    });
  });
});
