/** A conversation of the sandbox workspace. */
export interface ChannelDef {
  id: string;
  name: string;
  private?: boolean;
  archived?: boolean;
  /** Whether the bot user is a member (default true). */
  botMember?: boolean;
  /** Human members; when given, chat.postEphemeral to anyone else answers user_not_in_channel. */
  members?: string[];
}

/**
 * The channels of the sandbox workspace: the catalog's (payments, sales, SRE, identity, partners), the security channel,
 * the platform channel commands come from, and an incident channel. The bot is in all of them.
 */
export const SANDBOX_CHANNELS: readonly ChannelDef[] = [
  { id: 'C_PLATFORM', name: 'platform' },
  { id: 'C_PAYMENTS', name: 'payments' },
  { id: 'C_SALES', name: 'sales' },
  { id: 'C_SRE', name: 'sre' },
  { id: 'C_IDENTITY', name: 'identity' },
  { id: 'C_PARTNERS', name: 'partners' },
  { id: 'C_SECURITY', name: 'security-notifications' },
  { id: 'C_INC', name: 'inc-2024-0042' },
  { id: 'C_INC_2024_0042', name: 'inc-2024-0042' },
  { id: 'G_INC_2024_0043', name: 'inc-2024-0043', private: true },
];

/** Why the bot may not post in a channel, as chat.postMessage words it; undefined when it may. */
export type PostRefusal = 'channel_not_found' | 'is_archived' | 'not_in_channel';

export class Channels {
  private readonly byId = new Map<string, ChannelDef>();

  constructor(defs: readonly ChannelDef[]) {
    defs.forEach((d) => this.add(d));
  }

  add(def: ChannelDef): void {
    this.byId.set(def.id, { ...def });
  }

  remove(id: string): void {
    this.byId.delete(id);
  }

  /** By id, or by name with or without '#' (chat.postMessage accepts both). */
  find(idOrName: string): ChannelDef | undefined {
    const byId = this.byId.get(idOrName);
    if (byId) return byId;
    const name = idOrName.replace(/^#/, '');
    return [...this.byId.values()].find((c) => c.name === name);
  }

  /** The channel as the bot can see it: a private channel it is not in does not exist for it. */
  visible(idOrName: string): ChannelDef | undefined {
    const c = this.find(idOrName);
    return c && (!c.private || c.botMember !== false) ? c : undefined;
  }

  /**
   * Whether the bot may post: archived channels refuse everyone; outside a channel the bot needs
   * chat:write.public, which covers public channels only.
   */
  refusal(c: ChannelDef, scopes: readonly string[]): PostRefusal | undefined {
    if (c.archived) return 'is_archived';
    if (c.botMember === false && (c.private || !scopes.includes('chat:write.public')))
      return 'not_in_channel';
    return undefined;
  }
}
