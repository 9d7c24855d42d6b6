import { context, esc, section, type View } from './blocks';

export const USAGE = [
  '`/rotate <name>` — plan a rotation and ask for approval',
  '`/rotate plan <name>` — the same plan as a dry run (no buttons, nothing started)',
  '`/rotate status [<name>]` — the step a run is in, or the last outcome and the age',
  '`/rotate history <name>` — recent runs',
  '`/rotate due [page]` — this channel’s reminder digest (overdue first, Rotate now / Snooze); `/rotate due all [page]` every channel’s',
  '`/rotate emergency <name> [<name> …] [INC-…]` — responders: revoke and rotate compromised credentials now (`--issuer <issuer>` for all of one issuer; in an `#inc-…` channel the reference comes from its name)',
  '`/rotate incident <INC-…>` — an incident’s emergency timeline',
  '`/rotate help` — this help',
].join('\n');

/** Usage with examples; `problem` explains what was wrong with the input, if anything. */
export function helpView(problem?: string): View {
  const blocks = [
    ...(problem ? [section(`:warning: ${esc(problem)}`)] : []),
    section(`*Usage*\n${USAGE}`),
    context('Example: `/rotate payment-gateway-api` then an approver (not you) clicks Approve.'),
  ];
  return { text: problem ? `${problem} — try /rotate help` : 'How to use /rotate', blocks };
}
