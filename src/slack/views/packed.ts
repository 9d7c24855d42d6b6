import { context, section, type SlackBlock } from './blocks';

/** Slack's section text limit. */
const SECTION_CHARS = 3_000;

/**
 * Lines packed into as few sections as Slack's 3,000-character limit allows, at most `maxSections`
 * of them, then one "…and N more" line: an incident of a hundred credentials stays one message
 * within the 50-block limit.
 */
export function packedSections(lines: string[], maxSections: number, more = 'more'): SlackBlock[] {
  const blocks: SlackBlock[] = [];
  let text = '';
  let shown = 0;
  for (const line of lines) {
    const next = line.slice(0, SECTION_CHARS);
    if (text && text.length + 1 + next.length > SECTION_CHARS) {
      if (blocks.length + 1 >= maxSections) break;
      blocks.push(section(text));
      text = '';
    }
    text = text ? `${text}\n${next}` : next;
    shown += 1;
  }
  if (text) blocks.push(section(text));
  if (shown < lines.length) blocks.push(context(`…and ${lines.length - shown} ${more}.`));
  return blocks;
}
