import { stepDurationMs, type Run, type StepState, type StepStatus } from '../../domain/run';
import { context, duration, esc, section, type SlackBlock, type View } from './blocks';
import { stepTitle } from '../../domain/step-titles';
import { manualAskBlocks } from './manual-view';

export const STEP_ICON: Record<StepStatus, string> = {
  done: '✓',
  running: '⏳',
  waiting: '⏳',
  failed: '✗',
  pending: '○',
  skipped: '–',
};

function elapsed(step: StepState, run: Run): number | undefined {
  const done = stepDurationMs(step);
  if (done !== undefined) return done;
  if (!step.startedAt) return undefined;
  return Math.max(0, Date.parse(run.updatedAt) - Date.parse(step.startedAt));
}

function line(step: StepState, run: Run): string {
  const d = duration(elapsed(step, run));
  const time = d ? ` _(${d})_` : '';
  const waiting = step.status === 'waiting' ? ' waiting' : '';
  const detail = step.detail ? ` — ${esc(step.detail)}` : '';
  return `${STEP_ICON[step.status]} ${stepTitle(step.name)}${waiting}${time}${detail}`;
}

function headline(run: Run): string {
  if (run.status === 'finished') {
    const outcome = { succeeded: 'done', rolled_back: 'rolled back', failed: 'failed', refused: 'refused' };
    return `Rotation of *${esc(run.credential)}*: ${run.outcome ? outcome[run.outcome] : 'finished'}`;
  }
  const current = run.steps.find((s) => s.status === 'running' || s.status === 'waiting');
  const where = current ? `: ${stepTitle(current.name).toLowerCase()}` : '';
  return `Rotating *${esc(run.credential)}* (${run.status}${where})`;
}

/** The live checklist edited in place as steps start and finish. */
export function progressView(run: Run): View {
  const forward = run.steps.filter((s) => s.phase === 'forward').map((s) => line(s, run));
  const rollback = run.steps.filter((s) => s.phase === 'rollback').map((s) => line(s, run));
  const blocks: SlackBlock[] = [section(headline(run)), section(forward.join('\n'))];
  if (rollback.length) blocks.push(section(`*Rollback*\n${rollback.join('\n')}`));
  if (run.manual && run.status !== 'finished') blocks.push(...manualAskBlocks(run, run.manual));
  blocks.push(context(`Run \`${esc(run.id)}\``));
  const done = run.steps.filter((s) => s.status === 'done').length;
  return { text: `Rotation of ${run.credential}: ${done}/${run.steps.length} steps done`, blocks };
}
