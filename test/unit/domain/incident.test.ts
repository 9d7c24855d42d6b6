import {
  earliestSuspicious,
  formatIncidentRecord,
  incidentRefFromChannel,
  isKnownAddress,
  type ScopeEntry,
} from '../../../src/domain/incident';

describe('incidentRefFromChannel', () => {
  const pattern = /^inc-/;
  it.each([
    ['inc-2024-0042', 'INC-2024-0042'],
    ['#inc-2024-0042', 'INC-2024-0042'],
    ['inc-17', 'INC-17'],
  ])('takes %s as %s', (channel, ref) => {
    expect(incidentRefFromChannel(channel, pattern)).toBe(ref);
  });

  it('says nothing for a channel that is not an incident channel', () => {
    expect(incidentRefFromChannel('platform', pattern)).toBeUndefined();
  });
});

describe('isKnownAddress', () => {
  it('matches exact addresses, IPv4-mapped IPv6 and CIDRs', () => {
    const known = ['127.0.0.1', '10.0.0.0/8'];
    expect(isKnownAddress('127.0.0.1', known)).toBe(true);
    expect(isKnownAddress('::ffff:127.0.0.1', known)).toBe(true);
    expect(isKnownAddress('10.20.30.40', known)).toBe(true);
    expect(isKnownAddress('11.0.0.1', known)).toBe(false);
    expect(isKnownAddress('198.51.100.23', known)).toBe(false);
    expect(isKnownAddress(undefined, known)).toBe(false);
  });
});

describe('earliestSuspicious', () => {
  const e = (time: string, known: boolean, source: ScopeEntry['source'] = 'issuer'): ScopeEntry => ({
    time,
    source,
    what: 'key_1',
    known,
  });
  it('is the earliest issuer use from an unknown address; Vault lines and known callers do not count', () => {
    expect(
      earliestSuspicious([
        e('2024-01-01T00:00:00Z', true),
        e('2024-01-03T00:00:00Z', false),
        e('2024-01-02T00:00:00Z', false, 'vault'),
        e('2024-01-04T00:00:00Z', false),
      ]),
    ).toBe('2024-01-03T00:00:00Z');
    expect(earliestSuspicious([e('2024-01-01T00:00:00Z', true)])).toBeUndefined();
  });
});

describe('formatIncidentRecord', () => {
  it("writes the runbook's incident-log lines", () => {
    const text = formatIncidentRecord({
      incident: 'INC-2024-0042',
      credential: 'payment-gateway-api',
      compromisedKeyIds: ['key_1'],
      revokedAt: '2024-11-15T14:30:00Z',
      deployedAt: '2024-11-15T14:31:00Z',
      verification: 'pending',
      rotatedBy: 'slack:U0ERIN',
      scope: 'pending',
    });
    expect(text.split('\n')).toEqual([
      'Emergency Credential Rotation',
      'Incident: INC-2024-0042',
      'Credential: payment-gateway-api',
      'Compromised key: key_1',
      'Revoked: 2024-11-15T14:30:00Z',
      'New credential deployed: 2024-11-15T14:31:00Z',
      'Verification complete: [pending]',
      'Rotated by: slack:U0ERIN',
      'Earliest suspicious use: assessment pending',
    ]);
  });
});
