import type { WebClient } from '@slack/web-api';
import { incidentRefFromChannel } from '../src/domain/incident';
import { describeSlackFailure, slackFailureOf } from '../src/slack/slack-errors';
import { emergencyScopeView, mention, noticeView, type View } from '../src/slack/views';
import { closestNames } from './closest';
import { slackIdentity, type CommandDeps } from './deps';
import type { EmergencyInput } from './emergency-parse';

/** Who asked for an emergency, and where (a slash command or an app_mention). */
export interface EmergencyAsker {
  user: string;
  channel: string;
  /** A slash command's channel_name; an app_mention has none and is looked up. */
  channelName?: string;
  /** A mention inside a thread is answered in that thread. */
  threadTs?: string;
  /** How to give the reference explicitly, in the trigger's own syntax. */
  example: string;
  /** Answers the asker only. */
  reply: (view: View) => Promise<void>;
}

const NOTHING = 'Nothing was started.';

/**
 * The channel's name: the slash command's channel_name when it is one (Slack says "privategroup" or
 * "directmessage" for some conversations), else conversations.info (channels:read, groups:read).
 */
async function channelNameOf(client: WebClient, who: EmergencyAsker): Promise<string | undefined> {
  if (who.channelName && who.channelName !== 'privategroup' && who.channelName !== 'directmessage')
    return who.channelName;
  try {
    return (await client.conversations.info({ channel: who.channel })).channel?.name ?? undefined;
  } catch {
    return undefined;
  }
}

/** The incident: the reference given, else the incident channel's name; elsewhere it is required. */
async function incidentOf(
  deps: CommandDeps,
  client: WebClient,
  who: EmergencyAsker,
  given: string | undefined,
): Promise<{ ref: string; channel: string } | { problem: string }> {
  if (given) return { ref: given, channel: who.channel };
  const name = await channelNameOf(client, who);
  const ref = name ? incidentRefFromChannel(name, deps.incidentChannelPattern) : undefined;
  if (ref) return { ref, channel: who.channel };
  return {
    problem:
      `<#${who.channel}> is not an incident channel (its name does not match \`${deps.incidentChannelPattern.source}\`), ` +
      `so give the incident reference: ${who.example}. ${NOTHING}`,
  };
}

async function refuse(deps: CommandDeps, who: EmergencyAsker, input: EmergencyInput, why: string) {
  await deps.audit.record({
    credential: [...input.names, ...(input.issuer ? [`issuer:${input.issuer}`] : [])].join(','),
    action: 'emergency.refused',
    outcome: 'refused',
    identity: slackIdentity(who.user),
    detail: why,
  });
}

function unknownText(deps: CommandDeps, unknown: string[]): string {
  const known = deps.requests.credentialNames();
  const parts = unknown.map((u) => {
    if (u.startsWith('issuer ')) return `no credential has issuer \`${u.slice('issuer '.length)}\``;
    const close = closestNames(u, known);
    return `\`${u}\` is not in the catalog${close.length ? ` (closest: ${close.map((n) => `\`${n}\``).join(', ')})` : ''}`;
  });
  return `${parts.join('; ')}. ${NOTHING} Fix the list and try again: an emergency starts all of it or none.`;
}

/**
 * `/rotate emergency …` and `@credential-rotator compromised …`: responders only; the incident
 * from the channel or the command; an unknown name refuses the whole request. Then the scope in
 * the channel with one **Revoke and rotate now** button: the request is stored (and audited)
 * before the message is posted, so the button never points at nothing.
 */
export async function requestEmergency(
  deps: CommandDeps,
  client: WebClient,
  who: EmergencyAsker,
  input: EmergencyInput,
): Promise<void> {
  const allowed = await deps.authorization.canRespond(who.user);
  if (!allowed.allowed) {
    await refuse(deps, who, input, 'not a responder');
    const list = allowed.who.length
      ? `Responders: ${allowed.who.map(mention).join(', ')}.`
      : 'No responders are configured (catalog `access.responders`).';
    return who.reply(noticeView(`Only responders may start an emergency rotation. ${list} ${NOTHING}`));
  }
  const incident = await incidentOf(deps, client, who, input.incident);
  if ('problem' in incident) return who.reply(noticeView(incident.problem));
  const scope = await deps.requests.emergencyScope({
    credentials: input.names,
    ...(input.issuer ? { issuer: input.issuer } : {}),
  });
  if (scope.unknown.length > 0) {
    await refuse(deps, who, input, `unknown: ${scope.unknown.join(', ')}`);
    return who.reply(noticeView(unknownText(deps, scope.unknown)));
  }
  if (scope.targets.length === 0) return who.reply(noticeView(`No credential to rotate. ${NOTHING}`));
  const credentials = scope.targets.map((t) => t.credential);
  const { id, expiresAt } = await deps.emergencies.create({
    credentials,
    incident,
    requester: who.user,
    channel: who.channel,
  });
  await deps.audit.record({
    credential: credentials.join(','),
    action: 'emergency.requested',
    outcome: 'info',
    identity: slackIdentity(who.user),
    detail: `request ${id} for ${incident.ref} in ${incident.channel}`,
  });
  const view = emergencyScopeView({
    incident,
    requester: who.user,
    targets: scope.targets,
    requestId: id,
    expiresAt,
  });
  let ts: string | undefined;
  try {
    const res = await client.chat.postMessage({
      channel: who.channel,
      ...(who.threadTs ? { thread_ts: who.threadTs } : {}),
      text: view.text,
      blocks: view.blocks,
    });
    ts = res.ts;
  } catch (e) {
    const failure = slackFailureOf(e);
    await deps.emergencies.withdraw(id);
    if (!failure) throw e;
    return who.reply(noticeView(`:warning: ${describeSlackFailure(failure, who.channel)} ${NOTHING}`));
  }
  if (ts) await deps.emergencies.attachMessage(id, ts);
}
