/**
 * The baseline of the web-role benches: a bare Bolt 5 app on the HTTP receiver with a `/rotate`
 * handler that only acks. Prints one JSON line once it listens. Built to dist/bench/bare-bolt.js
 * by the bench (esbuild, dependencies left to node_modules) so both sides run compiled JavaScript.
 */
import { App } from '@slack/bolt';

async function main(): Promise<void> {
  const app = new App({
    signingSecret: process.env.SLACK_SIGNING_SECRET ?? 'bench-signing-secret',
    token: process.env.SLACK_BOT_TOKEN ?? 'xoxb-bench',
    tokenVerificationEnabled: false,
  });
  app.command('/rotate', async ({ ack }) => {
    await ack();
  });
  await app.start(Number(process.env.PORT ?? 0));
  process.stdout.write(`${JSON.stringify({ msg: 'bare bolt started' })}\n`);
  process.once('SIGTERM', () => void app.stop().then(() => process.exit(0)));
}

void main();
