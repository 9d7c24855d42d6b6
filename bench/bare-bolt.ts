/**
 * The baseline of the web-role benches: a bare Bolt 5 app on the HTTP receiver with a `/rotate`
 * handler that only acks. Like any Bolt app in its default configuration it verifies its token at
 * start (auth.test, here against the Slack double of SLACK_API_URL), as the web role does. Prints
 * one JSON line with its port once it listens. Built to dist/bench/bare-bolt.js by the bench
 * (esbuild, dependencies left to node_modules) so both sides run compiled JavaScript, and bundled
 * as the roles are (bench/bare-bolt-bundled.ts).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';

export async function main(): Promise<void> {
  const app = new App({
    signingSecret: process.env.SLACK_SIGNING_SECRET ?? 'bench-signing-secret',
    token: process.env.SLACK_BOT_TOKEN ?? 'xoxb-bench',
    ...(process.env.SLACK_API_URL ? { clientOptions: { slackApiUrl: process.env.SLACK_API_URL } } : {}),
    // Without a Slack to ask (no SLACK_API_URL) the token cannot be verified; BARE_NO_AUTH_TEST
    // measures the app that never asks (the baseline before both sides verified).
    tokenVerificationEnabled: process.env.SLACK_API_URL !== undefined && !process.env.BARE_NO_AUTH_TEST,
    deferInitialization: true,
  });
  app.command('/rotate', async ({ ack }) => {
    await ack();
  });
  await app.init();
  const server = (await app.start(Number(process.env.PORT ?? 0))) as Server;
  const port = (server.address() as AddressInfo).port;
  process.stdout.write(`${JSON.stringify({ msg: 'bare bolt started', port })}\n`);
  process.once('SIGTERM', () => void app.stop().then(() => process.exit(0)));
}

if (require.main === module) void main();
