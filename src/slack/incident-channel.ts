import type { WebClient } from '@slack/web-api';
import { RotatorError } from '../domain/errors';
import type { IncidentRecord } from '../domain/incident';
import type { IncidentChannel } from '../domain/ports';
import type { Run } from '../domain/run';
import type { TroubleshootingKey } from '../domain/troubleshooting';
import { slackFailureOf } from './slack-errors';
import { escalationView, incidentRecordView, type View } from './views';

export interface IncidentChannelOptions {
  /** Built with createWebClient (explicit retry policy). */
  client: WebClient;
  /** SECURITY_CHANNEL: escalations marked `security` go there too. */
  securityChannel?: string;
}

/**
 * IncidentChannel on Slack: escalations and the incident record are posted at once (never batched
 * behind the incident message's pacing) and throw when Slack refuses, so the engine knows.
 */
export class SlackIncidentChannel implements IncidentChannel {
  constructor(private readonly opts: IncidentChannelOptions) {}

  async escalate(
    run: Run,
    message: { text: string; hint?: TroubleshootingKey; security?: boolean },
  ): Promise<void> {
    const channels = [this.incidentChannel(run)];
    const security = this.opts.securityChannel;
    if (message.security && security && security !== channels[0]) channels.push(security);
    const view = escalationView(run, message);
    for (const channel of channels) await this.post(channel, view, 'escalation');
  }

  async record(run: Run, record: IncidentRecord): Promise<void> {
    await this.post(this.incidentChannel(run), incidentRecordView(run, record), 'incident record');
  }

  private incidentChannel(run: Run): string {
    if (!run.incident?.channel)
      throw new RotatorError('internal', `run ${run.id} belongs to no incident channel`, {
        context: { runId: run.id },
      });
    return run.incident.channel;
  }

  private async post(channel: string, view: View, what: string): Promise<void> {
    try {
      await this.opts.client.chat.postMessage({ channel, text: view.text, blocks: view.blocks });
    } catch (e) {
      const failure = slackFailureOf(e);
      throw new RotatorError(
        'internal',
        `Slack ${what} in ${channel} failed${failure ? `: ${failure.code}` : ''}`,
        {
          context: { channel, ...(failure ? { slackError: failure.code } : {}) },
          // Slack down or limiting may pass; a channel the bot cannot post in will not.
          transient: !failure || failure.code === 'ratelimited' || failure.code === 'unreachable',
        },
      );
    }
  }
}

/** The factory for EngineDeps.incidents. */
export function createIncidentChannel(opts: IncidentChannelOptions): IncidentChannel {
  return new SlackIncidentChannel(opts);
}
