import type { AgeAssessment } from '../../../src/domain/policy';
import { dueView, MAX_BLOCKS, SECTION_CHARS, type DueEntry } from '../../../src/slack/views';

const DAY = 86_400_000;
const NOW = Date.parse('2026-11-26T10:00:00Z');

/** i-th of n credentials: a tenth overdue (older first), a tenth due soon, a few unknown, the rest ok. */
function entry(i: number): DueEntry {
  const name = `credential-${String(i).padStart(5, '0')}-with-a-longish-name`;
  const kind = i % 10 === 0 ? 'overdue' : i % 10 === 1 ? 'due_soon' : i % 97 === 0 ? 'unknown' : 'ok';
  if (kind === 'unknown') return { name, age: { status: 'unknown', maxAgeDays: 90 } };
  const dueIn = kind === 'overdue' ? -(i % 400) - 1 : kind === 'due_soon' ? (i % 14) + 1 : 30 + (i % 60);
  const age: AgeAssessment = {
    status: kind,
    ageDays: 90 - dueIn,
    maxAgeDays: 90,
    dueAt: new Date(NOW + dueIn * DAY).toISOString(),
  };
  return { name, age, ...(i % 501 === 0 ? { active: true } : {}) };
}

const many = Array.from({ length: 10_000 }, (_, i) => entry(i));
type Block = { type: string; text?: { text: string }; elements?: Array<{ text: string }> };
const blocksOf = (v: ReturnType<typeof dueView>) => v.blocks as Block[];
const sectionTexts = (v: ReturnType<typeof dueView>) =>
  blocksOf(v)
    .filter((b) => b.type === 'section')
    .map((b) => b.text!.text);
const listed = (v: ReturnType<typeof dueView>) =>
  sectionTexts(v)
    .slice(1)
    .flatMap((t) => t.split('\n'));
const lastContext = (v: ReturnType<typeof dueView>) => blocksOf(v).at(-1)?.elements?.[0]?.text ?? '';

function expectWithinSlackLimits(v: ReturnType<typeof dueView>) {
  expect(v.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
  for (const t of sectionTexts(v)) expect(t.length).toBeLessThanOrEqual(SECTION_CHARS);
  expect(v.text.length).toBeLessThan(200);
}

describe('dueView with 10,000 credentials', () => {
  describe('/rotate due', () => {
    const view = dueView(many);

    it('fits one message and one section of the list', () => {
      expectWithinSlackLimits(view);
      expect(sectionTexts(view)).toHaveLength(2);
    });

    it('shows the most overdue first', () => {
      const lines = listed(view);
      expect(lines.length).toBeGreaterThan(20);
      expect(lines.every((l) => l.startsWith('🔴'))).toBe(true);
      const days = lines.map((l) => Number(/— (\d+) days old/.exec(l)?.[1]));
      expect(days).toEqual([...days].sort((a, b) => b - a));
    });

    it('counts every status and ends with how many more there are', () => {
      const n = (status: string) =>
        many.filter((e) => e.age.status === status).length.toLocaleString('en-US');
      expect(n('overdue')).toBe('1,000');
      expect(sectionTexts(view)[0]).toBe(
        `*Rotation due* — 1,000 overdue · 1,000 due soon · ${n('unknown')} unknown · ${n('ok')} ok`,
      );
      const more = 10_000 - listed(view).length;
      expect(lastContext(view)).toBe(`…and ${more.toLocaleString('en-US')} more: \`/rotate due all\``);
    });
  });

  describe('/rotate due all', () => {
    it('pages the whole list within Slack limits, each line once, in urgency order', () => {
      const seen: string[] = [];
      let page = 1;
      for (; page < 50; page++) {
        const view = dueView(many, { all: true, page });
        expectWithinSlackLimits(view);
        seen.push(...listed(view));
        if (!lastContext(view).startsWith('…and')) break;
        const more = 10_000 - seen.length;
        expect(lastContext(view)).toBe(
          `…and ${more.toLocaleString('en-US')} more: \`/rotate due all ${page + 1}\``,
        );
      }
      expect(page).toBeGreaterThan(1);
      expect(seen).toHaveLength(10_000);
      expect(new Set(seen).size).toBe(10_000);
      expect(seen[0]!.startsWith('🔴')).toBe(true);
      expect(seen.at(-1)!.startsWith('🟢')).toBe(true);
      expect(seen.filter((l) => l.includes('run in progress'))).toHaveLength(20);
    });

    it('says so when the page does not exist', () => {
      expect(lastContext(dueView(many, { all: true, page: 999 }))).toContain('No page 999');
    });
  });
});

describe('dueView with a small catalog', () => {
  it('lists every credential and no "more" line', () => {
    const view = dueView(many.slice(0, 3));
    expect(listed(view)).toHaveLength(3);
    expect(JSON.stringify(view.blocks)).not.toContain('more:');
  });

  it('says when the catalog is empty', () => {
    expect(JSON.stringify(dueView([]).blocks)).toContain('No credentials in the catalog.');
  });
});
