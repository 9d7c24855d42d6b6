import type { EmergencyRequest } from '../src/slack/emergency-requests';
import { closePlan } from '../src/slack/plan-message';
import { describeSlackFailure, slackFailureOf } from '../src/slack/slack-errors';
import { emergencyStartedLine, mention } from '../src/slack/views';
import { slackIdentity, type CommandDeps } from './deps';
import { noticeToClicker, type ButtonArgs } from './button';

const messageOf = (a: ButtonArgs, request?: EmergencyRequest) => ({
  channel: request?.channel || a.body.channel?.id || '',
  ts: request?.messageTs ?? a.body.message?.ts,
  blocks: a.body.message?.blocks,
});

/**
 * **Revoke and rotate now**: responders only (the requester too: there is no four-eyes rule in an
 * emergency), exactly one start however many clicks, then the button becomes "Started by …".
 */
export function emergencyStartAction(deps: CommandDeps) {
  return async (a: ButtonArgs): Promise<void> => {
    await a.ack();
    const user = a.body.user.id;
    const id = a.action.value ?? '';
    const reply = noticeToClicker(a);
    const request = await deps.emergencies.get(id);
    if (!request)
      return reply('This emergency request is unknown or too old. Run `/rotate emergency …` again.');
    const allowed = await deps.authorization.canRespond(user);
    if (!allowed.allowed) {
      await deps.audit.record({
        credential: request.credentials.join(','),
        action: 'emergency.refused',
        outcome: 'refused',
        identity: slackIdentity(user),
        detail: `start of request ${id} (${request.incident.ref}): not a responder`,
      });
      const list = allowed.who.map(mention).join(', ') || 'nobody is configured';
      return reply(`Only responders may start an emergency rotation (${list}). Nothing was started.`);
    }
    const claim = await deps.emergencies.claim(id, user);
    if (!claim.ok) {
      if (claim.reason === 'not_found') return reply('This emergency request is unknown or too old.');
      if (claim.reason === 'expired') {
        await closePlan(
          a.client,
          messageOf(a, claim.request),
          '⌛ This emergency offer expired. Nothing was started.',
        );
        return reply(
          `This offer expired at ${claim.request.expiresAt}: run the command again to see the current scope.`,
        );
      }
      const by = claim.request.startedBy ? ` by ${mention(claim.request.startedBy)}` : '';
      return reply(`This emergency was already started${by}.`);
    }
    let result;
    try {
      result = await deps.requests.startEmergency({
        credentials: request.credentials,
        incident: request.incident,
        requester: { kind: 'slack', id: user },
      });
    } catch (e) {
      // Nothing (or not everything) was started by this click: let the button work again.
      const reopened = await deps.emergencies.reopen(id, user).catch(() => false);
      deps.logger.warn({ requestId: id, reopened }, 'emergency could not be started');
      throw e;
    }
    await deps.emergencies.started(
      id,
      result.started.map((r) => r.id),
    );
    await deps.audit.record({
      credential: request.credentials.join(','),
      action: 'emergency.confirmed',
      outcome: 'info',
      identity: slackIdentity(user),
      detail: `request ${id} by ${slackIdentity(request.requester)} for ${request.incident.ref}: runs ${result.started.map((r) => r.id).join(', ') || 'none'}`,
    });
    const line = emergencyStartedLine(
      user,
      result.started.map((r) => ({ id: r.id, credential: r.credential })),
      result.alreadyRunning,
    );
    try {
      await closePlan(a.client, messageOf(a, request), line);
    } catch (e) {
      const failure = slackFailureOf(e);
      if (!failure) throw e;
      // The runs stand; only the message could not say so.
      return reply(`${line} (${describeSlackFailure(failure, request.channel)})`);
    }
  };
}
