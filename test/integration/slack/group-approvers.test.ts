import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCatalog } from '../../../src/catalog';
import { APPROVE_ACTION } from '../../../src/slack/views';
import { eventually } from '../../helpers/eventually';
import { startHarness, type AppHarness } from './app-harness';

const ENV = {
  PAYMENT_PROVIDER_ADMIN_TOKEN: 'payment-admin',
  CRM_ADMIN_TOKEN: 'crm-admin',
  MONITORING_ADMIN_TOKEN: 'monitoring-admin',
  IDP_ADMIN_TOKEN: 'idp-admin',
  IAM_ADMIN_ACCESS_KEY_ID: 'AKIAADMINADMINADMIN0',
  IAM_ADMIN_SECRET_ACCESS_KEY: 'iam-admin',
};
/** The shipped catalog: access.approvers [U0BOB, S0SECURITY]; crm-integration has no approvers of its own. */
const shipped = parseCatalog(readFileSync(join(__dirname, '../../../credentials.yaml'), 'utf8'), ENV);

describe('when a user group from the catalog is an approver', () => {
  let h: AppHarness;
  beforeEach(async () => {
    h = await startHarness({
      access: shipped.access,
      specs: [...shipped.credentials.values()],
      // What the sandbox seeds: the demo's security group.
      userGroups: { S0SECURITY: ['U0DAVE'] },
    });
  });
  afterEach(() => h.close());

  it('lets a member of the group approve, and starts the run', async () => {
    const { id, ts } = await h.requestPlan('crm-integration');
    expect((await h.click(APPROVE_ACTION, id, ts, 'U0DAVE')).status).toBe(200);
    await eventually(() => h.requests.started.length === 1);
    expect(h.requests.started[0]).toMatchObject({
      credential: 'crm-integration',
      approver: { kind: 'slack', id: 'U0DAVE' },
    });
    expect(h.audit.entries.find((e) => e.action === 'approval.granted')?.identity).toBe('slack:U0DAVE');
  });

  it('refuses a member of the group where the credential names its own approvers', async () => {
    const { id, ts } = await h.requestPlan('payment-gateway-api');
    await h.click(APPROVE_ACTION, id, ts, 'U0DAVE');
    const eph = await eventually(() => h.byMethod('chat.postEphemeral')[0]);
    expect(JSON.stringify(eph.args)).toContain('<@U0BOB>, <@U0CAROL>');
    expect(h.requests.started).toHaveLength(0);
  });
});
