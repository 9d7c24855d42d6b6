import type { WebClient } from '@slack/web-api';
import type { ApprovalRequest } from './approvals';
import { context, type SlackBlock } from './views';

/** The plan message a button sits on: the stored request's ts, else the clicked message. */
export interface PlanMessage {
  channel: string;
  ts?: string;
  /** Blocks as Slack sent them back with the click. */
  blocks?: unknown;
}

export function planMessageOf(
  request: ApprovalRequest,
  clicked: { channel?: string; ts?: string; blocks?: unknown },
) {
  return {
    channel: request.channel || clicked.channel || '',
    ...(request.messageTs || clicked.ts ? { ts: request.messageTs ?? clicked.ts } : {}),
    ...(clicked.blocks !== undefined ? { blocks: clicked.blocks } : {}),
  } as PlanMessage;
}

const isBlock = (b: unknown): b is SlackBlock =>
  typeof b === 'object' && b !== null && typeof (b as { type?: unknown }).type === 'string';

/** Replaces the plan's buttons with a closing line ("Approved by …", "Rejected by …", "expired"). */
export async function closePlan(client: WebClient, msg: PlanMessage, line: string): Promise<void> {
  if (!msg.ts || !msg.channel) return;
  const kept = Array.isArray(msg.blocks)
    ? msg.blocks.filter(isBlock).filter((b) => b.type !== 'actions')
    : [];
  await client.chat.update({
    channel: msg.channel,
    ts: msg.ts,
    text: line.replace(/[*_`]/g, ''),
    blocks: [...kept, context(line)],
  });
}
