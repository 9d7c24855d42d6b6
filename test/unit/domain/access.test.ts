import { stringify } from 'yaml';
import { parseCatalog } from '../../../src/catalog';
import { isUserGroupId, SLACK_ID } from '../../../src/domain/access';

const catalogWith = (approvers: string[]) =>
  stringify({
    access: { approvers },
    credentials: [
      {
        name: 'crm-integration',
        type: 'api_key',
        risk: 'standard',
        issuer: {
          kind: 'rest_api_key',
          name: 'crm.example.com',
          baseUrl: 'https://api.crm.example.com',
          adminTokenEnv: 'CRM_ADMIN_TOKEN',
        },
        consumers: [{ name: 'crm-sync', reload: 'scheduled' }],
        contact: 'sales@example.org',
      },
    ],
  });
const accepts = (id: string) => {
  try {
    parseCatalog(catalogWith([id]), { CRM_ADMIN_TOKEN: 't' });
    return true;
  } catch {
    return false;
  }
};

describe('the Slack id grammar', () => {
  it.each(['U024BE7LH', 'W0G9QF9GZ', 'U0BOB'])('takes %s for a user, not a group', (id) => {
    expect(SLACK_ID.test(id)).toBe(true);
    expect(isUserGroupId(id)).toBe(false);
  });

  it.each(['S0614TZR7', 'S0SECURITY'])('takes %s for a user group', (id) => {
    expect(isUserGroupId(id)).toBe(true);
  });

  it.each(['S_SECURITY', 'U_BOB', 's0security', 'C0PLATFORM', 'S', ''])('refuses %j', (id) => {
    expect(SLACK_ID.test(id)).toBe(false);
    expect(isUserGroupId(id)).toBe(false);
  });

  describe('when the catalog and the access check read the same id', () => {
    it.each(['S0SECURITY', 'S_SECURITY', 'U0BOB', 'U_BOB', 'Sgroup'])(
      'a group the catalog accepts is a group the check resolves (%s)',
      (id) => {
        const isGroupLike = id.startsWith('S');
        // Accepted as a group by the catalog ⇔ resolved as a group by the check: no id falls between.
        if (isGroupLike) expect(accepts(id)).toBe(isUserGroupId(id));
        else expect(accepts(id)).toBe(SLACK_ID.test(id));
      },
    );
  });
});
