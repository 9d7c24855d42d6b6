import type { CredentialSpec, DatabaseIssuerSpec } from '../../../src/domain/credential';
import { buildPlan } from '../../../src/domain/plan';
import { assessAge } from '../../../src/domain/policy';
import { Secret } from '../../../src/domain/secret';
import { specFixture } from '../../helpers/fixtures';

const NOW = new Date('2026-03-01T00:00:00.000Z');
const age = assessAge({
  type: 'database',
  risk: 'standard',
  rotatedAt: '2025-12-01T00:00:00.000Z',
  now: NOW,
});

function databaseSpec(strategy: DatabaseIssuerSpec['strategy'], users: string[]): CredentialSpec {
  return specFixture({
    name: 'orders-db',
    type: 'database',
    store: 'database-credentials/orders-db',
    issuer: {
      kind: 'postgres',
      name: 'orders-db.internal',
      host: '127.0.0.1',
      port: 5432,
      strategy,
      users,
      accountHost: '%',
      admin: { user: 'postgres', password: { from: 'env', value: new Secret('') } },
    },
  });
}

describe('the plan of a database credential', () => {
  it('asks for a maintenance window and the 48-hour notice when a single user changes password in place', () => {
    const plan = buildPlan({ spec: databaseSpec('single_user', ['orders_app']), age });
    expect(plan.notices.join(' ')).toMatch(/maintenance window/);
    expect(plan.notices.join(' ')).toMatch(/48 hours in advance/);
    expect(plan.steps.find((s) => s.name === 'generate')?.touches[0]).toContain(
      'new password for orders_app',
    );
  });

  it('says the old login keeps working until consumers moved, then is locked, for alternating users', () => {
    const plan = buildPlan({ spec: databaseSpec('alternating_users', ['app_a', 'app_b']), age });
    expect(plan.notices.join(' ')).toMatch(/keeps working until every consumer has moved/);
    expect(plan.notices.join(' ')).not.toMatch(/48 hours/);
    expect(plan.steps.find((s) => s.name === 'revoke-old')?.touches[0]).toMatch(/lock the old user/);
  });

  it('has no notice for an API key', () => {
    expect(buildPlan({ spec: specFixture(), age }).notices).toEqual([]);
  });
});
