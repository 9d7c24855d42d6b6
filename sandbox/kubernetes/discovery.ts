import type { JsonObject } from './patch';
import { groupVersion, RESOURCES, resourcesOf, type ResourceDef } from './resources';

/**
 * Legacy discovery documents (plain application/json): kubectl and client-go ask for the aggregated
 * apidiscovery.k8s.io/v2 form first and fall back to these when the Content-Type says plain JSON.
 */

const GROUPS = [...new Set(Object.values(RESOURCES).map((r) => r.group))].filter((g) => g !== '');

function versionsOf(group: string): string[] {
  const all = Object.values(RESOURCES).filter((r) => r.group === group);
  return [...new Set(all.flatMap((r) => r.versions))];
}

function apiGroup(group: string): JsonObject {
  const versions = versionsOf(group).map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions, preferredVersion: versions[0]! };
}

function apiResources(r: ResourceDef): JsonObject[] {
  const main: JsonObject = {
    name: r.plural,
    singularName: r.singular,
    namespaced: true,
    kind: r.kind,
    verbs: r.verbs,
    ...(r.shortNames.length > 0 ? { shortNames: r.shortNames } : {}),
    ...(r.categories.length > 0 ? { categories: r.categories } : {}),
  };
  const subs = r.subresources.map((s) => ({
    name: `${r.plural}/${s}`,
    singularName: '',
    namespaced: true,
    kind: s === 'log' ? 'Pod' : r.kind,
    verbs: s === 'log' ? ['get'] : ['get', 'patch', 'update'],
  }));
  return [main, ...subs];
}

/** The discovery document at `path`, or undefined when the path is not a discovery path. */
export function discovery(path: string, serverAddress: string): JsonObject | undefined {
  if (path === '/version' || path === '/version/') {
    return {
      major: '1',
      minor: '32',
      gitVersion: 'v1.32.0-sandbox',
      gitCommit: '0000000000000000000000000000000000000000',
      gitTreeState: 'clean',
      buildDate: '2025-01-01T00:00:00Z',
      goVersion: 'go1.23.4',
      compiler: 'gc',
      platform: 'linux/amd64',
    };
  }
  if (path === '/api') {
    return {
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
    };
  }
  if (path === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map(apiGroup) };
  const m = /^\/(?:api\/(v1)|apis\/([^/]+)(?:\/([^/]+))?)$/.exec(path);
  if (!m) return undefined;
  const group = m[2] ?? '';
  const version = m[1] ?? m[3];
  if (version === undefined) {
    return GROUPS.includes(group) ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group) } : undefined;
  }
  const served = resourcesOf(group, version);
  if (served.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: groupVersion(group, version),
    resources: served.flatMap(apiResources),
  };
}
