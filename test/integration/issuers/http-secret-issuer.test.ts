import { HttpSecretIssuer } from '../../../src/adapters/issuers/http-secret-issuer';
import { parseCatalog } from '../../../src/catalog';
import type { HttpSecretIssuerSpec } from '../../../src/domain/credential';
import { Secret } from '../../../src/domain/secret';
import { failure } from '../../helpers/failure';
import { createOAuthDouble, type OAuthDouble } from '../../../sandbox/oauth';

const ADMIN = 'idp-admin-token-1a2b3c4d5e';
const CLIENT = 'reporting portal/1'; // a client id that must be URL-encoded in paths

/** The issuer as the catalog builds it: a new provider is this entry, not code. */
function specFor(baseUrl: string): HttpSecretIssuerSpec {
  const yaml = `
access: { approvers: [U0BOB] }
credentials:
  - name: sso
    type: oauth_client_secret
    risk: standard
    issuer:
      kind: http_secret
      name: idp.example.com
      baseUrl: ${baseUrl}
      adminTokenEnv: IDP_TOKEN
      vars: { clientId: '${CLIENT}' }
      create: { path: '/clients/{clientId}/secrets', body: { description: '{label}' } }
      list: { path: '/clients/{clientId}/secrets', itemsField: secrets, labelField: description, lastUsedField: last_used_at }
      revoke: { path: '/clients/{clientId}/secrets/{id}' }
      verify: { kind: client_credentials, path: /oauth/token, clientId: '{clientId}' }
    consumers: [{ name: portal, kubernetes: { namespace: ns, deployment: portal } }]
    contact: team@example.org
`;
  const spec = parseCatalog(yaml, { IDP_TOKEN: ADMIN }).credentials.get('sso')!;
  if (spec.issuer.kind !== 'http_secret') throw new Error('not an http_secret issuer');
  expect(spec.consumers[0]!.reload).toBe('startup'); // restart-required is the OAuth default
  return spec.issuer;
}

describe('HttpSecretIssuer against an identity provider', () => {
  let idp: OAuthDouble;
  let issuer: HttpSecretIssuer;
  beforeEach(async () => {
    idp = await createOAuthDouble({ adminToken: ADMIN });
    idp.seedSecret(CLIENT, { value: 'old-secret-value-0001', description: 'seed' });
    issuer = new HttpSecretIssuer({ spec: specFor(idp.url), retry: { baseDelayMs: 1, maxDelayMs: 200 } });
  });
  afterEach(() => idp.close());

  it('creates a labelled secret that wins a client_credentials grant, lists it, and deletes it by id', async () => {
    const { keyId, value } = await issuer.create('rotator/sso/run-1');
    expect(idp.accepts(CLIENT, value.reveal())).toBe(true);
    expect(await issuer.accepts(value)).toBe(true);
    expect(await issuer.accepts(new Secret('wrong-secret-value'))).toBe(false);
    const listed = await issuer.list();
    expect(listed.find((k) => k.keyId === keyId)).toMatchObject({
      label: 'rotator/sso/run-1',
      status: 'active',
    });
    expect(await issuer.lastUsed(keyId)).toBeInstanceOf(Date);
    await issuer.revoke(keyId);
    await issuer.revoke(keyId); // already gone: not an error
    expect(await issuer.status(keyId)).toBe('absent');
    expect(await issuer.accepts(value)).toBe(false);
  });

  it('waits out a 429 with Retry-After and retries a 503, through the shared HTTP handling', async () => {
    idp.faults.add({
      method: 'POST',
      path: '/secrets',
      status: 429,
      headers: { 'retry-after': '0' },
      times: 1,
    });
    idp.faults.add({ method: 'GET', path: '/secrets', status: 503, times: 1 });
    await issuer.create('rotator/sso/run-2');
    expect((await issuer.list()).length).toBe(2);
  });

  it('names the host, path and status in errors, never the admin token or a value', async () => {
    const bad = new HttpSecretIssuer({
      spec: { ...specFor(idp.url), adminToken: new Secret('not-the-token-xyz') },
    });
    const e = await failure(bad.create('rotator/sso/run-3'));
    expect(e.code).toBe('issuer_rejected');
    expect(e.message).toContain('401');
    expect(e.message).toContain('/clients/reporting%20portal%2F1/secrets');
    expect(JSON.stringify({ m: e.message, c: e.context })).not.toMatch(/not-the-token|idp-admin-token/);
  });
});

describe('the http_secret catalog entry', () => {
  const entry = (issuer: string) => `
access: { approvers: [U0BOB] }
credentials:
  - name: tok
    type: service_account_token
    risk: standard
    issuer:
${issuer}
    consumers: [{ name: a, reload: dynamic }]
    contact: t@example.org
`;
  const base = `      kind: http_secret
      name: p
      baseUrl: https://p.example.com
      adminTokenEnv: P_TOKEN
      list: { path: /tokens, labelField: name }
      verify: { kind: bearer, path: /whoami }`;

  it('refuses a revoke path without {id}, a body without {label}, and placeholders missing from vars', () => {
    const text = entry(`${base}
      create: { path: '/accounts/{account}/tokens', body: { name: fixed } }
      revoke: { path: /tokens/current }`);
    expect(() => parseCatalog(text, { P_TOKEN: 'x' })).toThrow(/\{id\}/);
    expect(() => parseCatalog(text, { P_TOKEN: 'x' })).toThrow(/\{label\}/);
    const unknownVar = entry(`${base}
      create: { path: '/accounts/{account}/tokens', body: { name: '{label}' } }
      revoke: { path: '/tokens/{id}' }`);
    expect(() => parseCatalog(unknownVar, { P_TOKEN: 'x' })).toThrow(
      /placeholder \{account\} is not in issuer.vars/,
    );
  });

  it('requires a reload mode where the type has no restart default', () => {
    const text = entry(`${base}
      create: { path: /tokens, body: { name: '{label}' } }
      revoke: { path: '/tokens/{id}' }`).replace(
      'reload: dynamic',
      'kubernetes: { namespace: n, deployment: a }',
    );
    expect(() => parseCatalog(text, { P_TOKEN: 'x' })).toThrow(
      /consumers\[0\]\.reload: required for service_account_token/,
    );
  });
});
