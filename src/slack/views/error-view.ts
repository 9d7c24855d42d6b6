import { isRotatorError, safeMessage } from '../../domain/errors';
import { esc, section, type SlackBlock, type View } from './blocks';
import { troubleshootingBlocks, troubleshootingFor } from './hints';

const NOTHING_STARTED = 'Nothing was started.';

/** A user-facing error: the coded message and the runbook's hint. Never a stack trace or a value. */
export function errorView(e: unknown): View {
  let message = safeMessage(e);
  if (isRotatorError(e) && e.code === 'queue_unavailable' && !/nothing was started/i.test(message)) {
    message = `${message}. ${NOTHING_STARTED}`;
  }
  const blocks: SlackBlock[] = [section(`:warning: ${esc(message)}`)];
  const row = isRotatorError(e) ? troubleshootingFor(undefined, e.code) : undefined;
  if (row) blocks.push(...troubleshootingBlocks(row));
  return { text: message, blocks };
}

/** A short ephemeral notice (refusals, confirmations). */
export function noticeView(text: string): View {
  return { text, blocks: [section(text)] };
}
