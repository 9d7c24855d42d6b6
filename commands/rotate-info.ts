import type { DueEntry } from '../src/slack/views/status-view';
import { dueView, historyView, statusView, type View } from '../src/slack/views';
import type { CommandDeps } from './deps';

/** `/rotate status <name>`. */
export async function statusOf(deps: CommandDeps, name: string): Promise<View> {
  const s = await deps.requests.status(name);
  return statusView({
    name,
    age: s.age,
    ...(s.active ? { active: s.active } : {}),
    ...(s.last ? { last: s.last } : {}),
  });
}

/** `/rotate history <name>`. */
export async function historyOf(deps: CommandDeps, name: string): Promise<View> {
  return historyView(name, await deps.requests.history(name, 10));
}

/** `/rotate due` and `/rotate status`: every catalog credential with its age status. */
export async function dueList(deps: CommandDeps): Promise<View> {
  const names = deps.requests.credentialNames();
  const entries: DueEntry[] = await Promise.all(
    names.map(async (name) => {
      const s = await deps.requests.status(name);
      return { name, age: s.age, ...(s.active ? { active: true } : {}) };
    }),
  );
  return dueView(entries);
}
