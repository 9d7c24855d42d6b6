import type { Redis } from 'ioredis';
import { generate } from '../../../../src/procedures/steps/generate';
import { engineWorld, stepContext, type EngineWorld } from '../../../helpers/engine-world';
import { testRedis } from '../../../helpers/redis';

describe('generate', () => {
  let redis: Redis;
  let w: EngineWorld;
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(() => redis.quit());
  beforeEach(async () => {
    w = await engineWorld(redis);
  });
  afterEach(() => w.close());

  describe('when a crashed run left a key at the issuer that the store never got', () => {
    it('revokes that orphan before creating the new key, and the run says so', async () => {
      const orphan = w.issuer.issue(`rotator/${w.spec.name}/crashed-run`);
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('succeeded');
      expect(w.issuer.statusOf(orphan.keyId)).toBe('revoked');
      expect(run.facts.orphansRevoked).toEqual([orphan.keyId]);
      expect(run.steps.find((s) => s.name === 'generate')?.detail).toContain(orphan.keyId);
      expect(w.issuer.activeKeyIds()).toEqual([run.facts.newKeyId]);
    });
  });

  describe('when a retried create left a twin key whose value nobody has', () => {
    it('revokes the twin and keeps the key it got the value of', async () => {
      let twin = '';
      w.issuer.onCreate = async () => {
        w.issuer.onCreate = () => undefined;
        const created = (await w.issuer.list()).at(-1)!;
        twin = w.issuer.issue(created.label).keyId; // the first attempt's key, answer lost
      };
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('succeeded');
      expect(w.issuer.statusOf(twin)).toBe('revoked');
      expect(run.facts.orphansRevoked).toEqual([twin]);
      expect(w.issuer.activeKeyIds()).toEqual([run.facts.newKeyId]);
    });
  });

  describe('when earlier rotations left revoked keys at the issuer', () => {
    it('does not count them as orphans again', async () => {
      const earlier = w.issuer.issue(`rotator/${w.spec.name}/earlier-run`);
      await w.issuer.revoke(earlier.keyId);
      const { id } = await w.newRun();
      const run = await w.drive(id);
      expect(run.facts.orphansRevoked).toBeUndefined();
      expect(run.steps.find((s) => s.name === 'generate')?.detail).not.toContain('orphaned');
    });
  });

  describe('when the issuer holds keys that are not orphans of this credential', () => {
    it('leaves alone the stored keys, other credentials’ keys and keys made by hand', async () => {
      const other = w.issuer.issue('rotator/crm-integration/their-run');
      const byHand = w.issuer.issue('ops/break-glass');
      const run = await w.newRun();
      const ctx = stepContext(w, run);
      await ctx.checkpoint();

      const out = await generate(ctx);

      expect(out.kind).toBe('done');
      for (const k of [w.oldKey, other, byHand]) expect(w.issuer.statusOf(k.keyId)).toBe('active');
      expect(run.facts.orphansRevoked).toBeUndefined();
      expect(w.issuer.statusOf(run.facts.newKeyId!)).toBe('active');
      expect(ctx.scratch.newValue).toBeDefined();
    });

    it('leaves alone the previous key the store still records', async () => {
      // An earlier rotation whose revocation was refused: previous_key still in use somewhere.
      const previous = w.issuer.issue(`rotator/${w.spec.name}/earlier-run`);
      const base = w.store.current(w.spec.store)!;
      await w.store.write(
        w.spec.store,
        {
          value: w.oldKey.value,
          keyId: w.oldKey.keyId,
          previousValue: previous.value,
          previousKeyId: previous.keyId,
          rotatedAt: base.rotatedAt!,
          rotatedBy: 'seed',
        },
        base.version,
      );
      const run = await w.newRun();

      await generate(stepContext(w, run));

      expect(w.issuer.statusOf(previous.keyId)).toBe('active');
    });
  });
});
