import { dueView, historyView, statusView, type DueViewOptions, type View } from '../src/slack/views';
import type { AnswerDeps } from './deps';

/** `/rotate status <name>`. */
export async function statusOf(deps: AnswerDeps, name: string): Promise<View> {
  const s = await deps.requests.status(name);
  const secret = deps.requests.spec(name).kubernetesSecret;
  return statusView({
    name,
    age: s.age,
    ...(s.active ? { active: s.active } : {}),
    ...(s.last ? { last: s.last } : {}),
    ...(s.drift?.length ? { drift: s.drift } : {}),
    ...(secret ? { secret } : {}),
    ...(s.oldKey ? { oldKey: s.oldKey } : {}),
  });
}

/** `/rotate history <name>`. */
export async function historyOf(deps: AnswerDeps, name: string): Promise<View> {
  return historyView(name, await deps.requests.pastRuns(name, 10));
}

/** `/rotate due [all [page]]` and `/rotate status`: credentials by urgency, summarised or paged. */
export async function dueList(deps: AnswerDeps, opts: DueViewOptions = {}): Promise<View> {
  return dueView(await deps.requests.due(), opts);
}
