import type { CredentialSpec } from '../src/domain/credential';
import { replyEphemeral } from '../src/slack/reply';
import { noticeView, type View } from '../src/slack/views';
import type { CommandDeps } from './deps';
import type { ButtonArgs } from './button';

export type { ButtonArgs } from './button';

/**
 * What a digest button's click needs: who clicked where, an ephemeral reply to them, and the
 * catalog entry the button names (undefined, and the clicker told, when the catalog dropped it).
 */
export async function digestClick(
  deps: CommandDeps,
  a: ButtonArgs,
): Promise<{ user: string; channel: string; reply: (view: View) => Promise<void>; spec?: CredentialSpec }> {
  await a.ack();
  const user = a.body.user.id;
  const channel = a.body.channel?.id ?? '';
  const reply = (view: View) => replyEphemeral(a.client, { channel, user }, view);
  const name = a.action.value ?? '';
  if (!deps.requests.credentialNames().includes(name)) {
    await reply(noticeView(`No credential named \`${name}\` in the catalog any more.`));
    return { user, channel, reply };
  }
  return { user, channel, reply, spec: deps.requests.spec(name) };
}
