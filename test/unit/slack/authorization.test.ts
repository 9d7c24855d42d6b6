import { Authorization } from '../../../src/slack/authorization';

const access = { requesters: [], approvers: ['U_BOB', 'SAPPROVERS1'], responders: ['SRESPOND1'] };

function setup(groups: Record<string, string[]> = { SAPPROVERS1: ['U_CAROL'], SRESPOND1: ['U_ERIN'] }) {
  let now = 0;
  const lookups: string[] = [];
  const auth = new Authorization({
    access,
    cacheMs: 60_000,
    now: () => now,
    groups: async (id) => {
      lookups.push(id);
      const members = groups[id];
      if (!members) throw new Error('no_such_subteam');
      return members;
    },
  });
  return { auth, lookups, advance: (ms: number) => (now += ms), groups };
}

describe('Authorization', () => {
  it('lets anyone request when no requesters are configured', async () => {
    await expect(setup().auth.canRequest('U_ANYONE')).resolves.toEqual({ allowed: true });
  });

  it('grants approvers listed by user id or through a user group', async () => {
    const { auth } = setup();
    await expect(auth.canApprove('U_BOB')).resolves.toEqual({ allowed: true });
    await expect(auth.canApprove('U_CAROL')).resolves.toEqual({ allowed: true });
  });

  describe('when the user is not an approver', () => {
    it('refuses and says who is', async () => {
      await expect(setup().auth.canApprove('U_DAVE')).resolves.toEqual({
        allowed: false,
        who: ['U_BOB', 'SAPPROVERS1'],
      });
    });
  });

  describe('when the credential has its own approvers', () => {
    it('they replace the global approvers', async () => {
      const { auth } = setup();
      await expect(auth.canApprove('U_BOB', ['U_ZED'])).resolves.toEqual({ allowed: false, who: ['U_ZED'] });
      await expect(auth.canApprove('U_ZED', ['U_ZED'])).resolves.toEqual({ allowed: true });
      expect(auth.approversFor([])).toEqual(access.approvers);
    });
  });

  it('caches group membership briefly and reads it again after the cache time', async () => {
    const { auth, lookups, advance, groups } = setup();
    await auth.canApprove('U_CAROL');
    await auth.canApprove('U_CAROL');
    expect(lookups).toEqual(['SAPPROVERS1']);
    groups.SAPPROVERS1 = [];
    advance(61_000);
    await expect(auth.canApprove('U_CAROL')).resolves.toMatchObject({ allowed: false });
    expect(lookups).toEqual(['SAPPROVERS1', 'SAPPROVERS1']);
  });

  it('checks responders for emergencies', async () => {
    const { auth } = setup();
    await expect(auth.canRespond('U_ERIN')).resolves.toEqual({ allowed: true });
    await expect(auth.canRespond('U_BOB')).resolves.toMatchObject({ allowed: false });
  });

  describe('when a group cannot be read', () => {
    it('fails closed with an error instead of a misleading refusal', async () => {
      const { auth } = setup({});
      await expect(auth.canApprove('U_CAROL')).rejects.toMatchObject({ code: 'not_allowed' });
    });
  });
});
