import type { CredentialType, Risk } from '../../../src/domain/credential';
import type { Snooze } from '../../../src/domain/digest';
import type { InventoryReport, InventoryRow } from '../../../src/domain/inventory';
import { SCHEDULE } from '../../../src/domain/policy';
import {
  DIGEST_ROWS,
  digestMessages,
  MAX_BLOCKS,
  ROTATE_NOW_ACTION,
  SECTION_CHARS,
  SNOOZE_ACTION,
} from '../../../src/slack/views';

const DAY = 86_400_000;
const NOW = new Date('2026-11-30T09:00:00Z');
const SETTINGS = { securityChannel: 'C_SECURITY', dueSoonDays: 14 };
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

/** Every row of the runbook's schedule table. */
const TABLE = (Object.keys(SCHEDULE) as CredentialType[]).flatMap((type) =>
  (['standard', 'high'] as Risk[]).map((risk) => ({ type, risk, max: SCHEDULE[type][risk] })),
);

function row(name: string, over: Partial<InventoryRow> = {}): InventoryRow {
  return { name, path: `api-credentials/${name}`, inCatalog: true, inVault: true, status: 'ok', ...over };
}
const report = (rows: InventoryRow[], drift: InventoryReport['drift'] = []): InventoryReport => ({
  generatedAt: NOW.toISOString(),
  rows,
  drift,
});

type Block = {
  type: string;
  text?: { text: string };
  elements?: Array<{ action_id?: string; value?: string; text?: string | { text: string } }>;
};
const blocksOf = (m: { view: { blocks: unknown[] } }) => m.view.blocks as Block[];
const rowTexts = (m: { view: { blocks: unknown[] } }) => {
  const blocks = blocksOf(m);
  return blocks
    .map((b, i) => ({ b, next: blocks[i + 1] }))
    .filter(({ b, next }) => b.type === 'section' && next?.type === 'actions')
    .map(({ b }) => b.text!.text);
};

describe('the digests at a fixed now, across every row of the policy table', () => {
  // Per (type, risk): 3 days overdue, due in 5 days, on the edge of the window (14), and one day past it.
  const rows = TABLE.flatMap(({ type, risk, max }) => [
    row(`${type}-${risk}-late`, { type, risk, channel: 'C_A', rotatedAt: ago(max + 3) }),
    row(`${type}-${risk}-soon`, { type, risk, channel: 'C_A', rotatedAt: ago(max - 5) }),
    row(`${type}-${risk}-edge`, { type, risk, channel: 'C_A', createdTime: ago(max - 14) }),
    row(`${type}-${risk}-fine`, { type, risk, channel: 'C_A', rotatedAt: ago(max - 15) }),
  ]);
  const [digest, ...others] = digestMessages(report(rows), new Map(), NOW, SETTINGS);
  const all = (Object.keys(SCHEDULE) as CredentialType[]).flatMap((t) => [`${t}-standard`, `${t}-high`]);

  it('is one message for the one owning channel', () => {
    expect(digest!.channel).toBe('C_A');
    expect(others).toEqual([]);
  });

  it('lists overdue first, then due soon, each with its days left and its policy', () => {
    const texts = rowTexts(digest!);
    expect(texts).toHaveLength(DIGEST_ROWS);
    // 10 overdue by 3 days, then the due-in-5 rows: the first page holds all 10 overdue first.
    for (const t of texts.slice(0, 10)) expect(t).toMatch(/late\* — \*overdue by 3 days\*/);
    for (const t of texts.slice(10)) expect(t).toMatch(/soon\* — \*due in 5 days\*/);
    for (const { type, risk, max } of TABLE)
      expect(texts.find((t) => t.includes(`*${type}-${risk}-late*`))).toContain(
        `${type}, ${risk === 'high' ? 'high risk' : 'standard'}: ${max}-day policy`,
      );
    expect(JSON.stringify(digest!.view.blocks)).toContain('10 overdue · 20 due soon');
    expect(JSON.stringify(digest!.view.blocks)).toContain('…and 10 more due: `/rotate due 2`');
  });

  it('counts the edge of the warning window (created_time, no rotation) as due, and a day more as not', () => {
    const text = JSON.stringify(
      digestMessages(report(rows), new Map(), NOW, { ...SETTINGS, dueSoonDays: 14 }),
    );
    expect(text).not.toContain('-fine*');
    const page2 = digestMessages(
      report(rows.filter((r) => r.name.endsWith('-edge'))),
      new Map(),
      NOW,
      SETTINGS,
    )[0]!;
    expect(rowTexts(page2)).toHaveLength(10);
    for (const t of rowTexts(page2)) expect(t).toMatch(/edge\* — \*due in 14 days\*/);
    for (const name of all) expect(JSON.stringify(page2.view.blocks)).toContain(`${name}-edge`);
  });

  it('gives every row Rotate now and Snooze 7 days, naming the credential', () => {
    const actions = blocksOf(digest!).filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(DIGEST_ROWS);
    for (const a of actions) {
      expect(a.elements!.map((e) => e.action_id)).toEqual([ROTATE_NOW_ACTION, SNOOZE_ACTION]);
      expect(a.elements![0]!.value).toBe(a.elements![1]!.value);
    }
  });

  it('stays within Slack limits', () => {
    expect(digest!.view.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
    for (const b of blocksOf(digest!)) expect(b.text?.text.length ?? 0).toBeLessThanOrEqual(SECTION_CHARS);
  });
});

describe('which channel gets what', () => {
  const late = (name: string, channel?: string) =>
    row(name, { type: 'api_key', risk: 'standard', rotatedAt: ago(120), ...(channel ? { channel } : {}) });
  const fine = (name: string, channel: string) =>
    row(name, { type: 'api_key', risk: 'standard', rotatedAt: ago(10), channel });

  it('posts nothing to a channel with nothing due, and sends ownerless credentials to the security channel', () => {
    const out = digestMessages(
      report([late('a', 'C_A'), fine('b', 'C_B'), late('orphan')]),
      new Map(),
      NOW,
      SETTINGS,
    );
    expect(out.map((m) => m.channel)).toEqual(['C_A', 'C_SECURITY']);
    expect(JSON.stringify(out[1]!.view)).toContain('*orphan*');
    expect(JSON.stringify(out[0]!.view)).not.toContain('*b*');
  });

  it('lists a snoozed credential as snoozed by whom until when, without buttons, and posts no digest for it alone', () => {
    const snooze: Snooze = { credential: 'a', by: 'U0BOB', at: ago(1), until: ago(-6) };
    const snoozes = new Map([['a', snooze]]);
    expect(digestMessages(report([late('a', 'C_A')]), snoozes, NOW, SETTINGS)).toEqual([]);
    const [m] = digestMessages(report([late('a', 'C_A'), late('c', 'C_A')]), snoozes, NOW, SETTINGS);
    expect(rowTexts(m!).map((t) => t.match(/\*(\w)\*/)![1])).toEqual(['c']);
    const text = JSON.stringify(m!.view.blocks);
    expect(text).toContain('💤 *a* (overdue by 30 days) — snoozed by <@U0BOB> until');
    expect(text).toContain(snooze.until);
  });

  it('ignores a snooze that has run out', () => {
    const snoozes = new Map([['a', { credential: 'a', by: 'U0BOB', at: ago(8), until: ago(1) }]]);
    const [m] = digestMessages(report([late('a', 'C_A')]), snoozes, NOW, SETTINGS);
    expect(rowTexts(m!)).toHaveLength(1);
  });

  const driftAndUnknown = (channel: string) =>
    report(
      [
        fine('b', 'C_B'),
        late('a', channel),
        row('u', { channel: 'C_B', status: 'unknown', reason: 'vault read failed: HTTP 500' }),
      ],
      [
        { kind: 'undeclared-consumer', name: 'b', where: 'payments/reporting' },
        { kind: 'vault-only', path: 'api-credentials/legacy' },
      ],
    );
  const driftLine = '*b*: `payments/reporting` uses its secret but is not a declared consumer';

  it('shows a channel with something due its drift and what could not be read; Vault entries nobody owns go to security', () => {
    const out = digestMessages(driftAndUnknown('C_B'), new Map(), NOW, SETTINGS);
    expect(out.map((m) => m.channel)).toEqual(['C_B', 'C_SECURITY']);
    const b = JSON.stringify(out[0]!.view.blocks);
    expect(b).toContain(`*Drift*\\n${driftLine}`);
    expect(b).toContain('*Could not be checked*\\n⚪ *u* — vault read failed: HTTP 500');
    const security = JSON.stringify(out[1]!.view.blocks);
    expect(security).toContain('`secret/api-credentials/legacy` is in Vault but not in the catalog');
    expect(security).not.toContain('*u*');
  });

  it('posts nothing to a channel with only drift or unreadable rows: those go to the security channel, naming the channel', () => {
    const out = digestMessages(driftAndUnknown('C_A'), new Map(), NOW, SETTINGS);
    expect(out.map((m) => m.channel)).toEqual(['C_A', 'C_SECURITY']);
    expect(JSON.stringify(out[0]!.view.blocks)).not.toContain('*u*');
    expect(JSON.stringify(out[0]!.view.blocks)).not.toContain(driftLine);
    const security = JSON.stringify(out[1]!.view.blocks);
    expect(security).toContain('⚪ *u* — vault read failed: HTTP 500 · <#C_B>');
    expect(security).toContain(driftLine);
    expect(security).toContain('`secret/api-credentials/legacy` is in Vault but not in the catalog');
    const drift = report([fine('b', 'C_B')], [{ kind: 'undeclared-consumer', name: 'b', where: 'x/y' }]);
    expect(digestMessages(drift, new Map(), NOW, SETTINGS).map((m) => m.channel)).toEqual(['C_SECURITY']);
  });

  it('puts a catalog entry Vault does not hold first, as never rotated', () => {
    const [m] = digestMessages(
      report([
        late('a', 'C_A'),
        row('new', {
          channel: 'C_A',
          inVault: false,
          status: 'never-rotated',
          type: 'api_key',
          risk: 'high',
        }),
      ]),
      new Map(),
      NOW,
      SETTINGS,
    );
    expect(rowTexts(m!)[0]).toContain('*new* — *never rotated*');
  });
});
