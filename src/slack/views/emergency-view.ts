import type { EmergencyTarget } from '../../domain/incident';
import {
  context,
  duration,
  esc,
  header,
  mention,
  plain,
  section,
  slackTime,
  type SlackBlock,
  type View,
} from './blocks';
import { packedSections } from './packed';

export const EMERGENCY_START_ACTION = 'emergency_start';

export interface EmergencyScopeInput {
  incident: { ref: string; channel: string };
  requester: string;
  targets: EmergencyTarget[];
  /** The pending request's id: all the button carries. */
  requestId: string;
  expiresAt: string;
}

const names = (xs: string[]) => (xs.length ? xs.map((x) => `\`${esc(x)}\``).join(', ') : 'none');

function targetLine(t: EmergencyTarget): string {
  const parts = [
    `revokes ${t.keysToRevoke.length ? names(t.keysToRevoke) : '_the current key (id not recorded)_'} at once`,
    `fails until restarted: ${t.failingUntilRestart.length ? t.failingUntilRestart.map(esc).join(', ') : 'none'}`,
  ];
  if (t.reloadingThemselves.length)
    parts.push(`reloads by itself: ${t.reloadingThemselves.map(esc).join(', ')}`);
  parts.push(`deadline ${duration(t.deadlineMs)} from the click`);
  if (t.takesOverRun) parts.push(`takes over scheduled run \`${esc(t.takesOverRun)}\``);
  return `• *${esc(t.credential)}* (${esc(t.type)}, ${esc(t.issuer)}) — ${parts.join(' · ')}`;
}

/**
 * The scope of an emergency before its one deliberate click: per credential the keys revoked at
 * once, the consumers that fail until their restart, the deadline and a scheduled run taken over.
 * Key ids and names only.
 */
export function emergencyScopeView(input: EmergencyScopeInput): View {
  const n = input.targets.length;
  const blocks: SlackBlock[] = [
    header(`🚨 Emergency rotation — ${input.incident.ref}`),
    section(
      `${mention(input.requester)} reports ${n === 1 ? 'a compromised credential' : `${n} compromised credentials`}. ` +
        '*Revoke and rotate now* revokes every key below *before* the new one is deployed: the consumers listed fail until their restart. No approval; any responder may click.',
    ),
    ...packedSections(input.targets.map(targetLine), 40, 'more credentials'),
    context(
      `Incident \`${esc(input.incident.ref)}\` · progress in <#${input.incident.channel}> · this offer expires ${slackTime(input.expiresAt, '{time}')}`,
    ),
    {
      type: 'actions',
      block_id: 'emergency_start',
      elements: [
        {
          type: 'button',
          action_id: EMERGENCY_START_ACTION,
          text: plain('Revoke and rotate now'),
          style: 'danger',
          value: input.requestId,
        },
      ],
    },
  ];
  const what = n === 1 ? input.targets[0]!.credential : `${n} credentials`;
  return { text: `Emergency rotation of ${what} (${input.incident.ref}): revoke and rotate now?`, blocks };
}

/** The line that replaces the button once the runs started. */
export function emergencyStartedLine(
  user: string,
  started: Array<{ id: string; credential: string }>,
  alreadyRunning: Array<{ credential: string; runId: string }>,
): string {
  const runs = started.map((r) => `\`${esc(r.id)}\` (${esc(r.credential)})`).join(', ');
  const already = alreadyRunning.length
    ? `; already in an emergency: ${alreadyRunning.map((r) => `${esc(r.credential)} (\`${esc(r.runId)}\`)`).join(', ')}`
    : '';
  return `🚨 Started by ${mention(user)}: runs ${runs || 'none'}${already}. Progress in the incident message.`;
}
