import { randomBytes } from 'node:crypto';
import type { Args, MethodContext, Reply } from './methods';

const fail = (error: string, messages?: string[]): Reply => ({
  ok: false,
  error,
  ...(messages ? { response_metadata: { messages } } : {}),
});

type View = Record<string, unknown>;

const isView = (v: unknown): v is View => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A view argument: a JSON string (form-encoded calls) or an object (JSON calls). */
function viewOf(args: Args): View | undefined {
  const raw = args.view;
  if (isView(raw)) return raw;
  if (typeof raw !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    return isView(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The view object Slack answers with: the given view plus the ids and state Slack adds. */
function stored(ctx: MethodContext, view: View, extra: Record<string, unknown>): View {
  const id = `V${randomBytes(5).toString('hex').toUpperCase()}`;
  return {
    id,
    team_id: ctx.teamId,
    type: view.type,
    blocks: Array.isArray(view.blocks) ? view.blocks : [],
    private_metadata: typeof view.private_metadata === 'string' ? view.private_metadata : '',
    callback_id: typeof view.callback_id === 'string' ? view.callback_id : '',
    state: { values: {} },
    hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
    clear_on_close: false,
    notify_on_close: false,
    root_view_id: id,
    previous_view_id: null,
    app_id: 'A_ROTATOR',
    external_id: typeof view.external_id === 'string' ? view.external_id : '',
    app_installed_team_id: ctx.teamId,
    bot_id: ctx.botId,
    ...extra,
  };
}

/** views.publish: a user's App Home tab (type home); `hash` guards against a stale overwrite. */
export function viewsPublish(ctx: MethodContext, args: Args): Reply {
  const user = typeof args.user_id === 'string' ? args.user_id : undefined;
  if (!user) return fail('invalid_arguments', ['[ERROR] missing required field: user_id']);
  const view = viewOf(args);
  if (!view) return fail('invalid_arguments', ['[ERROR] missing required field: view']);
  if (view.type !== 'home')
    return fail('invalid_arguments', ['[ERROR] must be one of "home" [json-pointer:/view/type]']);
  if (!/^[UW][A-Z0-9_]+$/.test(user)) return fail('user_not_found');
  const previous = ctx.state.homeViews.get(user);
  if (typeof args.hash === 'string' && previous && previous.hash !== args.hash) return fail('hash_conflict');
  const published = stored(ctx, view, { type: 'home' });
  ctx.state.homeViews.set(user, published);
  return { ok: true, view: published };
}

/** views.open: a modal, for a trigger_id Slack gave an interaction; each trigger opens one view. */
export function viewsOpen(ctx: MethodContext, args: Args): Reply {
  const trigger = typeof args.trigger_id === 'string' ? args.trigger_id : undefined;
  if (!trigger) return fail('invalid_arguments', ['[ERROR] missing required field: trigger_id']);
  const view = viewOf(args);
  if (!view) return fail('invalid_arguments', ['[ERROR] missing required field: view']);
  if (view.type !== 'modal')
    return fail('invalid_arguments', ['[ERROR] must be one of "modal" [json-pointer:/view/type]']);
  if (ctx.state.usedTriggers.has(trigger)) return fail('exchanged_trigger_id');
  ctx.state.usedTriggers.add(trigger);
  return { ok: true, view: stored(ctx, view, { type: 'modal', title: view.title ?? null }) };
}
