/** What the Slack double remembers: every call, and the messages as they look after updates. */
export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  at: string;
  /** HTTP status the double answered with (200, or 429 when rate limited). */
  status: number;
  /** For method 'response_url': which response URL was used. */
  responseUrlId?: string;
}

export interface SlackMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  threadTs?: string;
  user: string;
  botId: string;
  edited?: { ts: string };
}

export class SlackState {
  readonly calls: SlackCall[] = [];
  /** views.publish: each user's App Home view. */
  readonly homeViews = new Map<string, Record<string, unknown>>();
  /** views.open: trigger ids already exchanged for a view. */
  readonly usedTriggers = new Set<string>();
  private readonly byChannel = new Map<string, SlackMessage[]>();
  private lastTs = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  record(call: Omit<SlackCall, 'at'>): void {
    this.calls.push({ ...call, at: new Date(this.clock()).toISOString() });
  }

  /** Unique, strictly increasing ts like Slack's "1732650000.000100". */
  nextTs(): string {
    const micros = Math.max(this.clock() * 1000, this.lastTs + 100);
    this.lastTs = micros;
    const secs = Math.floor(micros / 1_000_000);
    const frac = String(micros % 1_000_000).padStart(6, '0');
    return `${secs}.${frac}`;
  }

  add(message: SlackMessage): void {
    const list = this.byChannel.get(message.channel) ?? [];
    list.push(message);
    this.byChannel.set(message.channel, list);
  }

  find(channel: string, ts: string): SlackMessage | undefined {
    return this.byChannel.get(channel)?.find((m) => m.ts === ts);
  }

  messages(channel?: string): SlackMessage[] {
    if (channel !== undefined) return [...(this.byChannel.get(channel) ?? [])];
    return [...this.byChannel.values()].flat().sort((a, b) => Number(a.ts) - Number(b.ts));
  }
}
