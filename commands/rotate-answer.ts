import type { WebClient } from '@slack/web-api';
import { replyEphemeral } from '../src/slack/reply';
import { targetOfRequest, type RotateRequest } from '../src/slack/slack-requests';
import { noticeView, type View } from '../src/slack/views';
import { closestNames } from './closest';
import type { AnswerDeps } from './deps';
import { dueDigest } from './rotate-due';
import { dueList, historyOf, statusOf } from './rotate-info';
import { incidentTimeline } from './rotate-incident';
import { parseRotateText } from './rotate-parse';
import { dryRun, requestRotation } from './rotate-request';

/**
 * The slow part of `/rotate` after its ack: reads the store, the cluster and the issuer, and
 * answers the requester through the command's response_url, or posts the plan message with
 * Approve/Reject in the channel. Run by the `slack-requests` worker; errors are the caller's to
 * report.
 */
export async function answerRotate(deps: AnswerDeps, client: WebClient, request: RotateRequest) {
  const reply = (view: View) => replyEphemeral(client, targetOfRequest(request), view);
  const input = parseRotateText(request.text);
  if (input.kind === 'due') return reply(await dueDigest(deps, request.channel, input, request.channelName));
  if (input.kind === 'status' && input.name === undefined) return reply(await dueList(deps));
  if (input.kind === 'incident') return reply(await incidentTimeline(deps, input.ref));
  if (input.kind !== 'status' && input.kind !== 'history' && input.kind !== 'plan' && input.kind !== 'rotate')
    return; // help, usage and emergencies are answered by the web role itself

  const name = input.name!;
  const known = deps.requests.credentialNames();
  if (!known.includes(name)) {
    const close = closestNames(name, known);
    const hint = close.length ? ` Closest: ${close.map((n) => `\`${n}\``).join(', ')}.` : '';
    return reply(noticeView(`No credential named \`${name}\` in the catalog.${hint}`));
  }
  const who = { user: request.user, channel: request.channel, reply };
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
}
