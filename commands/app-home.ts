import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { homeView } from '../src/slack/views';
import type { AnswerDeps, CommandDeps } from './deps';

/**
 * The Home tab: on app_home_opened (tab "home"), the inventory as a dashboard, published for that
 * user with views.publish. Bolt acks the event before this runs; the dashboard (Vault and the
 * cluster read) is built by a worker when there is a queue. Errors reach the app's handler.
 */
export function appHomeOpened(deps: CommandDeps) {
  return async ({ event, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs) => {
    if (event.tab !== 'home') return;
    if (deps.enqueueRequest)
      return deps.enqueueRequest({ kind: 'home', user: event.user, channel: event.channel });
    await publishHome(deps, client, event.user);
  };
}

/** Builds the dashboard and publishes it as `user`'s Home tab. */
export async function publishHome(
  deps: Pick<AnswerDeps, 'requests' | 'logger'>,
  client: WebClient,
  user: string,
) {
  const view = homeView(await deps.requests.dashboard());
  await client.views.publish({ user_id: user, view });
  deps.logger.info({ user, rows: view.blocks.length }, 'App Home published');
}
