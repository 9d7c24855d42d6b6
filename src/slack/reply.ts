import type { WebClient } from '@slack/web-api';
import type { View } from './views/blocks';

/** Where an ephemeral answer goes: a slash command's response_url, else chat.postEphemeral. */
export interface EphemeralTarget {
  channel: string;
  user: string;
  responseUrl?: string;
}

/**
 * Answers only the person who acted. Slash commands answer through their response_url (works in
 * DMs and channels the bot is not in); button clicks with chat.postEphemeral.
 */
export async function replyEphemeral(client: WebClient, target: EphemeralTarget, view: View): Promise<void> {
  if (target.responseUrl) {
    const res = await fetch(target.responseUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, ...view }),
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) throw new Error(`response_url answered HTTP ${res.status}`);
    return;
  }
  await client.chat.postEphemeral({
    channel: target.channel,
    user: target.user,
    text: view.text,
    blocks: view.blocks,
  });
}

/** Ephemeral target of an incoming body: slash command, block action or event (app_mention). */
export function targetOf(body: unknown): EphemeralTarget | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const nested = (v: unknown): string | undefined =>
    typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string'
      ? (v as { id: string }).id
      : undefined;
  if (typeof b.command === 'string' && typeof b.channel_id === 'string' && typeof b.user_id === 'string') {
    return {
      channel: b.channel_id,
      user: b.user_id,
      ...(typeof b.response_url === 'string' ? { responseUrl: b.response_url } : {}),
    };
  }
  if (b.type === 'event_callback' && typeof b.event === 'object' && b.event !== null) {
    const e = b.event as Record<string, unknown>;
    return typeof e.channel === 'string' && typeof e.user === 'string'
      ? { channel: e.channel, user: e.user }
      : undefined;
  }
  const channel = nested(b.channel);
  const user = nested(b.user);
  return channel && user ? { channel, user } : undefined;
}
