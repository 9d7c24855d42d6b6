import { RotatorError } from '../domain/errors';
import type { IncidentRecord } from '../domain/incident';
import type { Escalation, IncidentChannel } from '../domain/ports';
import type { Run } from '../domain/run';
import type { ChannelOutbox } from './channel-outbox';
import { escalationView, incidentRecordView } from './views';

export interface IncidentChannelOptions {
  /** The notifications queue's per-channel outbox: posting never holds a rotation's worker slot. */
  outbox: ChannelOutbox;
  /** SECURITY_CHANNEL: escalations marked `security` go there too. */
  securityChannel?: string;
}

/**
 * IncidentChannel on Slack: escalations and the incident record go to the incident channel's
 * outbox, which posts them as soon as the channel's pacing allows, several as one message when
 * many runs report at once. A call resolves once the message is safely queued in Redis and throws
 * (transient) when Redis cannot take it, so the step retries.
 */
export class SlackIncidentChannel implements IncidentChannel {
  constructor(private readonly opts: IncidentChannelOptions) {}

  async escalate(run: Run, message: Escalation): Promise<void> {
    const channels = [this.incidentChannel(run)];
    const security = this.opts.securityChannel;
    if (message.security && security && security !== channels[0]) channels.push(security);
    const view = escalationView(run, message);
    // Once per run and channel: a step or deadline job retried after a crash does not say it twice.
    for (const channel of channels)
      await this.queue(channel, () =>
        this.opts.outbox.post(channel, view, { id: `${message.once}:${run.id}:${channel}` }),
      );
  }

  async record(run: Run, record: IncidentRecord): Promise<void> {
    const channel = this.incidentChannel(run);
    await this.queue(channel, () =>
      this.opts.outbox.post(channel, incidentRecordView(run, record), { id: `incident-record:${run.id}` }),
    );
  }

  private incidentChannel(run: Run): string {
    if (!run.incident?.channel)
      throw new RotatorError('internal', `run ${run.id} belongs to no incident channel`, {
        context: { runId: run.id },
      });
    return run.incident.channel;
  }

  private async queue(channel: string, post: () => Promise<void>): Promise<void> {
    try {
      await post();
    } catch (e) {
      throw new RotatorError(
        'queue_unavailable',
        `could not queue a message for ${channel}: ${(e as Error).message}`,
        {
          context: { channel },
          transient: true,
        },
      );
    }
  }
}

/** The factory for EngineDeps.incidents. */
export function createIncidentChannel(opts: IncidentChannelOptions): IncidentChannel {
  return new SlackIncidentChannel(opts);
}
