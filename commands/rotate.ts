import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { replyEphemeral } from '../src/slack/reply';
import { helpView, noticeView, type View } from '../src/slack/views';
import { closestNames } from './closest';
import type { CommandDeps } from './deps';
import { requestEmergency } from './emergency-request';
import { dueDigest } from './rotate-due';
import { dueList, historyOf, statusOf } from './rotate-info';
import { incidentTimeline } from './rotate-incident';
import { parseRotateText } from './rotate-parse';
import { dryRun, requestRotation } from './rotate-request';

export const ROTATE_COMMAND = '/rotate';

/**
 * The /rotate slash command. Acks at once (empty body), then does the slow work (store, cluster,
 * issuer reads) and answers: ephemerally via response_url, or with a plan message in the channel.
 * Errors thrown here reach the app's one error handler.
 */
export function rotateCommand(deps: CommandDeps) {
  return async ({ command, ack, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    await ack();
    const target = { channel: command.channel_id, user: command.user_id, responseUrl: command.response_url };
    const reply = (view: View) => replyEphemeral(client, target, view);
    const input = parseRotateText(command.text);
    deps.logger.info({ user: command.user_id, channel: command.channel_id, kind: input.kind }, '/rotate');

    if (input.kind === 'usage') return reply(helpView(input.problem));
    if (input.kind === 'help') return reply(helpView());
    if (input.kind === 'emergency') {
      const who = {
        user: command.user_id,
        channel: command.channel_id,
        channelName: command.channel_name,
        example: '`/rotate emergency <name> INC-2024-0042`',
        reply,
      };
      // A leak does not queue behind plans: its request is a few Redis writes.
      return requestEmergency(deps, client, who, input);
    }
    const slow = <T>(fn: () => Promise<T>): Promise<T> => (deps.pool ? deps.pool.run(fn) : fn());
    return slow(async () => {
      if (input.kind === 'due')
        return reply(await dueDigest(deps, command.channel_id, input, command.channel_name));
      if (input.kind === 'status' && input.name === undefined) return reply(await dueList(deps));
      if (input.kind === 'incident') return reply(await incidentTimeline(deps, input.ref));

      const name = input.name!;
      const known = deps.requests.credentialNames();
      if (!known.includes(name)) {
        const close = closestNames(name, known);
        const hint = close.length ? ` Closest: ${close.map((n) => `\`${n}\``).join(', ')}.` : '';
        return reply(noticeView(`No credential named \`${name}\` in the catalog.${hint}`));
      }
      const who = { user: command.user_id, channel: command.channel_id, reply };
      switch (input.kind) {
        case 'status':
          return reply(await statusOf(deps, name));
        case 'history':
          return reply(await historyOf(deps, name));
        case 'plan':
          return dryRun(deps, who, name);
        case 'rotate':
          return requestRotation(deps, client, who, name);
      }
    });
  };
}
