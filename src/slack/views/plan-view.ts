import type { Plan, PlannedConsumer } from '../../domain/plan';
import { describeAge } from '../../domain/policy';
import {
  context,
  divider,
  esc,
  fields,
  header,
  md,
  mention,
  plain,
  section,
  type SlackBlock,
  type View,
} from './blocks';

export const APPROVE_ACTION = 'rotation_approve';
export const REJECT_ACTION = 'rotation_reject';

export interface PlanViewInput {
  plan: Plan;
  /** Who may approve: the credential's approvers, or the global ones (user or group ids). */
  approvers: string[];
  requester?: string;
  /** Present for an approvable plan: the buttons carry only this id. */
  requestId?: string;
  /** ISO time the approval expires. */
  expiresAt?: string;
}

const AGE_ICON = { ok: '🟢', due_soon: '🟡', overdue: '🔴', unknown: '⚪' } as const;

function consumerLine(c: PlannedConsumer): string {
  const where = c.where ? ` (\`${esc(c.where)}\`)` : '';
  const action = {
    restart: 'restart',
    'wait-cache': 'waits for cache refresh',
    'next-job': 'next job picks it up',
  }[c.action];
  const found =
    c.foundInCluster === undefined
      ? ''
      : c.foundInCluster
        ? ' · found in cluster'
        : ' · ⚠️ *not found in cluster*';
  return `• *${esc(c.name)}*${where}: reload ${c.reload} → ${action}${found}`;
}

function consumerBlocks(plan: Plan): SlackBlock[] {
  const lines = plan.consumers.map(consumerLine);
  for (const w of plan.undeclared)
    lines.push(`• ⚠️ \`${esc(w)}\` references the secret but is *not declared*`);
  const drift = plan.undeclared.length + plan.missing.length + plan.drift.length > 0;
  const blocks = [
    section(`*Consumers (declared vs found)*${drift ? ' — ⚠️ drift' : ''}\n${lines.join('\n')}`),
  ];
  if (plan.drift.length)
    blocks.push(section(`*Drift*\n${plan.drift.map((d) => `• ⚠️ ${esc(d)}`).join('\n')}`));
  return blocks;
}

function stepBlocks(plan: Plan): SlackBlock[] {
  const restarts = plan.consumers.filter((c) => c.action === 'restart').map((c) => c.name);
  const lines = plan.steps.map((s, i) => {
    const touches = s.touches.length ? ` — ${s.touches.map(esc).join('; ')}` : '';
    const restart =
      s.name === 'deploy' && restarts.length ? `\n      restarts: ${restarts.map(esc).join(', ')}` : '';
    return `${i + 1}. *${esc(s.title)}*${touches}${restart}`;
  });
  return [section(`*Steps*\n${lines.join('\n')}`)];
}

function buttons(plan: Plan, requestId: string): SlackBlock {
  return {
    type: 'actions',
    block_id: 'plan_decision',
    elements: [
      {
        type: 'button',
        action_id: APPROVE_ACTION,
        text: plain('Approve'),
        style: 'primary',
        value: requestId,
        confirm: {
          title: plain('Rotate now?'),
          text: md(`Start rotating *${esc(plan.credential)}* now?`),
          confirm: plain('Approve'),
          deny: plain('Cancel'),
        },
      },
      { type: 'button', action_id: REJECT_ACTION, text: plain('Reject'), style: 'danger', value: requestId },
    ],
  };
}

/** The plan preview: with Approve/Reject when `requestId` is given, otherwise a dry run. */
export function planView(input: PlanViewInput): View {
  const { plan } = input;
  const dryRun = input.requestId === undefined;
  const age = describeAge(plan.age);
  const who = input.approvers.length ? input.approvers.map(mention).join(', ') : 'nobody is configured';
  const blocks: SlackBlock[] = [
    header(`${dryRun ? 'Dry run: ' : ''}Rotate ${plan.credential}`),
    fields(
      `*Credential*\n\`${esc(plan.credential)}\``,
      `*Type*\n${plan.type}`,
      `*Risk*\n${plan.risk}`,
      `*Age*\n${AGE_ICON[plan.age.status]} ${esc(age)}`,
      `*Issuer*\n${esc(plan.issuer)}`,
      `*Store*\n\`secret/${esc(plan.store)}\``,
    ),
    ...consumerBlocks(plan),
    ...(plan.notices.length ? [section(plan.notices.map((n) => `⚠️ ${esc(n)}`).join('\n'))] : []),
    ...(plan.channelProblem ? [section(`⚠️ *Summary channel*: ${esc(plan.channelProblem)}`)] : []),
    ...stepBlocks(plan),
    divider,
  ];
  const meta = [`May approve: ${who} (never the requester)`];
  if (input.requester) meta.unshift(`Requested by ${mention(input.requester)}`);
  if (input.expiresAt)
    meta.push(
      `Approval expires <!date^${Math.floor(Date.parse(input.expiresAt) / 1000)}^{time}|${input.expiresAt}>`,
    );
  if (dryRun) meta.push('Dry run: nothing will be started.');
  blocks.push(context(...meta));
  if (!dryRun) blocks.push(buttons(plan, input.requestId!));
  const text = `${dryRun ? 'Dry run: rotate' : 'Rotation plan for'} ${plan.credential} (${age})`;
  return { text, blocks };
}
