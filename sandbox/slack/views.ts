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

/** Slack's limits on a Home tab view: 100 blocks, 250 kB, and a section's text 3,000 characters. */
export const HOME_VIEW_LIMITS = { blocks: 100, bytes: 250 * 1024, sectionText: 3000 } as const;

/** Slack's schema errors for the blocks of a view (json-pointers as Slack writes them). */
function blockErrors(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return ['[ERROR] missing required field: blocks [json-pointer:/view]'];
  if (blocks.length > HOME_VIEW_LIMITS.blocks)
    return [`[ERROR] no more than ${HOME_VIEW_LIMITS.blocks} items allowed [json-pointer:/view/blocks]`];
  const errors: string[] = [];
  blocks.forEach((b, i) => {
    const block = isView(b) ? b : undefined;
    if (typeof block?.type !== 'string') {
      errors.push(`[ERROR] missing required field: type [json-pointer:/view/blocks/${i}]`);
      return;
    }
    const text = isView(block.text) ? block.text.text : undefined;
    if (block.type === 'section' && typeof text === 'string' && text.length > HOME_VIEW_LIMITS.sectionText)
      errors.push(
        `[ERROR] must be less than ${HOME_VIEW_LIMITS.sectionText + 1} characters [json-pointer:/view/blocks/${i}/text/text]`,
      );
  });
  return errors;
}

/** views.publish: a user's App Home tab (type home); `hash` guards against a stale overwrite. */
export function viewsPublish(ctx: MethodContext, args: Args): Reply {
  const user = typeof args.user_id === 'string' ? args.user_id : undefined;
  if (!user) return fail('invalid_arguments', ['[ERROR] missing required field: user_id']);
  const view = viewOf(args);
  if (!view) return fail('invalid_arguments', ['[ERROR] missing required field: view']);
  if (view.type !== 'home')
    return fail('invalid_arguments', ['[ERROR] must be one of "home" [json-pointer:/view/type]']);
  if (Buffer.byteLength(JSON.stringify(view)) > HOME_VIEW_LIMITS.bytes) return fail('view_too_large');
  const errors = blockErrors(view.blocks);
  if (errors.length > 0) return fail('invalid_arguments', errors);
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
