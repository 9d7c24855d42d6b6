import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { homeView } from '../src/slack/views';
import type { CommandDeps } from './deps';

/**
 * The Home tab: on app_home_opened (tab "home"), the inventory as a dashboard, published for that
 * user with views.publish. Bolt acks the event before this runs; errors reach the app's handler.
 */
export function appHomeOpened(deps: CommandDeps) {
  return async ({ event, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs) => {
    if (event.tab !== 'home') return;
    const view = homeView(await deps.requests.dashboard());
    await client.views.publish({ user_id: event.user, view });
    deps.logger.info({ user: event.user, rows: view.blocks.length }, 'App Home published');
  };
}
