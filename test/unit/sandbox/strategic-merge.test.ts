import { PatchError, type JsonObject } from '../../../sandbox/kubernetes/patch';
import { DEPLOYMENT_SCHEMA, strategicMerge } from '../../../sandbox/kubernetes/strategic-merge';

/** A plain JSON copy, typed as the patch functions take it. */
const json = (v: unknown): JsonObject => JSON.parse(JSON.stringify(v)) as JsonObject;

const deployment = () =>
  json({
    metadata: { name: 'web-app', finalizers: ['a'] },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'web-app',
              image: 'example/web-app:1',
              env: [
                { name: 'A', value: '1' },
                { name: 'KEY', valueFrom: { secretKeyRef: { name: 's', key: 'api_key' } } },
              ],
              envFrom: [{ secretRef: { name: 's' } }],
            },
            { name: 'sidecar', image: 'example/sidecar:1' },
          ],
        },
      },
    },
  });

const merge = (patch: Record<string, unknown>) =>
  strategicMerge(deployment(), json(patch), DEPLOYMENT_SCHEMA);
const containers = (o: JsonObject) =>
  (o.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec.containers;

describe('strategic merge patch (apimachinery semantics)', () => {
  it('merges containers and env by name, and orders them by $setElementOrder', () => {
    const out = merge({
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'web-app' }, { name: 'sidecar' }],
            containers: [
              {
                name: 'web-app',
                '$setElementOrder/env': [{ name: 'B' }, { name: 'A' }, { name: 'KEY' }],
                env: [{ name: 'B', value: '2' }],
              },
            ],
          },
        },
      },
    });
    const [web, sidecar] = containers(out);
    expect(web).toEqual({
      name: 'web-app',
      image: 'example/web-app:1',
      env: [
        { name: 'B', value: '2' },
        { name: 'A', value: '1' },
        { name: 'KEY', valueFrom: { secretKeyRef: { name: 's', key: 'api_key' } } },
      ],
      envFrom: [{ secretRef: { name: 's' } }],
    });
    expect(sidecar).toEqual({ name: 'sidecar', image: 'example/sidecar:1' });
    expect(JSON.stringify(out)).not.toContain('$');
  });

  it('keeps server-only items where they were when $setElementOrder does not name them', () => {
    const out = merge({
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'web-app',
                '$setElementOrder/env': [{ name: 'KEY' }, { name: 'C' }],
                env: [{ name: 'C', value: '3' }],
              },
            ],
          },
        },
      },
    });
    expect((containers(out)[0]!.env as Array<{ name: string }>).map((e) => e.name)).toEqual([
      'A',
      'KEY',
      'C',
    ]);
  });

  it('deletes an item with $patch: delete, and replaces a list with $patch: replace', () => {
    const deleted = merge({
      spec: {
        template: { spec: { containers: [{ name: 'web-app', env: [{ name: 'A', $patch: 'delete' }] }] } },
      },
    });
    expect((containers(deleted)[0]!.env as Array<{ name: string }>).map((e) => e.name)).toEqual(['KEY']);
    const replaced = merge({
      spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } },
    });
    expect(containers(replaced)).toEqual([{ name: 'only', image: 'x' }]);
  });

  it('replaces lists that have no merge strategy (envFrom) and merges primitive sets (finalizers)', () => {
    const out = merge({
      metadata: { finalizers: ['b', 'a'], '$deleteFromPrimitiveList/finalizers': [] },
      spec: {
        template: { spec: { containers: [{ name: 'web-app', envFrom: [{ secretRef: { name: 't' } }] }] } },
      },
    });
    expect((out.metadata as { finalizers: string[] }).finalizers).toEqual(['a', 'b']);
    expect(containers(out)[0]!.envFrom).toEqual([{ secretRef: { name: 't' } }]);
    const removed = merge({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } });
    expect((removed.metadata as { finalizers: string[] }).finalizers).toEqual([]);
  });

  it('refuses a list item without its merge key, as the apiserver does', () => {
    expect(() => merge({ spec: { template: { spec: { containers: [{ image: 'x' }] } } } })).toThrow(
      PatchError,
    );
  });
});
