import type { AgeAssessment } from '../../domain/policy';
import { describeAge } from '../../domain/policy';
import type { Run } from '../../domain/run';
import { esc, section, type SlackBlock, type View } from './blocks';
import { stepTitle } from '../../domain/step-titles';
import { who } from './summary-view';

export interface StatusInput {
  name: string;
  active?: Run;
  last?: Run;
  age: AgeAssessment;
}

export function runLine(run: Run): string {
  const when = `<!date^${Math.floor(Date.parse(run.updatedAt) / 1000)}^{date_short} {time}|${run.updatedAt}>`;
  const outcome = run.outcome ?? run.status;
  return `\`${esc(run.id)}\` ${outcome.replace('_', ' ')} · ${when} · requested by ${who(run.requester)}${
    run.approver ? `, approved by ${who(run.approver)}` : ''
  }`;
}

/** `/rotate status <name>`: the step a run is in, or the last outcome, and the age. */
export function statusView(input: StatusInput): View {
  const blocks: SlackBlock[] = [section(`*${esc(input.name)}* — ${esc(describeAge(input.age))}`)];
  if (input.active) {
    const step = input.active.steps.find((s) => s.status === 'running' || s.status === 'waiting');
    const where = step
      ? `in step *${stepTitle(step.name)}*${step.status === 'waiting' ? ' (waiting)' : ''}`
      : 'queued';
    blocks.push(section(`Run \`${esc(input.active.id)}\` is ${where}.`));
  } else if (input.last) {
    blocks.push(section(`Last run: ${runLine(input.last)}`));
    // The summary never reached its channel: this is where someone asking finds out.
    if (input.last.notifyError) blocks.push(section(`⚠ Summary not posted: ${esc(input.last.notifyError)}`));
  } else {
    blocks.push(section('No rotation run recorded yet.'));
  }
  return { text: `${input.name}: ${describeAge(input.age)}`, blocks };
}

/** `/rotate history <name>`. */
export function historyView(name: string, runs: Run[]): View {
  const lines = runs.map((r) => `• ${runLine(r)}`);
  const blocks = [section(`*History of ${esc(name)}*\n${lines.length ? lines.join('\n') : 'No runs yet.'}`)];
  return { text: `History of ${name}: ${runs.length} run(s)`, blocks };
}
