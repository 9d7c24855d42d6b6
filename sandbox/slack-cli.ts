/**
 * Play with the bot without a Slack workspace: sends correctly signed requests to the running demo
 * and prints what the bot posted (read back from the Slack double).
 *
 *   npm run slack -- '/rotate payment-gateway-api' --user U0ALICE
 *   npm run slack -- approve <request-id> --user U0BOB      (also: reject <request-id>)
 *   npm run slack -- stored <run-id> --user U0BOB           (a manual run's buttons; also: revoked)
 */
import { readFileSync } from 'node:fs';
import type { SlackCall, SlackMessage } from './slack';
import { blockActionBody, postSigned, slashCommandBody } from './slack/signed-request';

interface DemoInfo {
  slackEvents: string;
  slackSigningSecret: string;
  slackApi: string;
}

/** The buttons this CLI can click, by verb. */
const BUTTONS: Record<string, string> = {
  approve: 'rotation_approve',
  reject: 'rotation_reject',
  stored: 'manual_stored',
  revoked: 'manual_revoked',
};

function usage(problem?: string): never {
  if (problem) console.error(problem);
  console.error(
    "usage: npm run slack -- '/rotate <text>' --user U0ALICE [--channel C_PLATFORM]\n" +
      '       npm run slack -- approve|reject <request-id> --user U0BOB\n' +
      '       npm run slack -- stored|revoked <run-id> --user U0BOB',
  );
  process.exit(2);
}

function parseArgs(argv: string[]) {
  const flags: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) flags[a.slice(2)] = argv[++i] ?? usage(`${a} needs a value`);
    else rest.push(a);
  }
  return { flags, rest };
}

function demoInfo(): DemoInfo {
  const path = process.env.DEMO_INFO ?? '.demo/sandbox.json';
  let info: Partial<DemoInfo>;
  try {
    info = JSON.parse(readFileSync(path, 'utf8')) as Partial<DemoInfo>;
  } catch {
    return usage(`cannot read ${path}: start the demo first (npm run demo) or set DEMO_INFO`);
  }
  if (!info.slackEvents || !info.slackSigningSecret || !info.slackApi)
    usage(`${path} lacks the Slack fields`);
  return info as DemoInfo;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return (await res.json()) as T;
}

function render(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return [];
  const out: string[] = [];
  for (const b of blocks as Array<Record<string, unknown>>) {
    const text = (b.text as { text?: string } | undefined)?.text;
    if (text) out.push(text);
    for (const f of (b.fields as Array<{ text: string }> | undefined) ?? [])
      out.push(f.text.replace(/\n/g, ': '));
    for (const e of (b.elements as Array<Record<string, unknown>> | undefined) ?? []) {
      if (e.type === 'button') out.push(`[${(e.text as { text: string }).text}] value=${String(e.value)}`);
      else if (typeof e.text === 'string') out.push(e.text);
    }
  }
  return out;
}

function print(call: SlackCall): void {
  const a = call.args;
  const where = [
    a.channel,
    a.thread_ts ? `thread ${String(a.thread_ts)}` : '',
    a.user ? `to ${String(a.user)}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  console.log(
    `\n── ${call.method}${where ? ` (${where})` : ''}${call.status !== 200 ? ` HTTP ${call.status}` : ''}`,
  );
  const lines = render(a.blocks);
  console.log(
    (lines.length ? lines : [String(a.text ?? '')]).map((l) => `   ${l.replace(/\n/g, '\n   ')}`).join('\n'),
  );
}

async function main(): Promise<void> {
  const { flags, rest } = parseArgs(process.argv.slice(2));
  const user = flags.user ?? usage('--user is required');
  const info = demoInfo();
  const origin = info.slackApi.replace(/\/api\/?$/, '');
  const responseUrl = `${origin}/response/cli-${Date.now()}`;
  const since = Date.now();
  const [first, id] = rest;
  let body: string;
  const actionId = first ? BUTTONS[first] : undefined;
  if (actionId) {
    if (!id) usage(`${first!} needs the id printed on the message's buttons (request id, or run id)`);
    const messages = await getJson<SlackMessage[]>(`${origin}/_messages`);
    const plan = messages.find((m) => JSON.stringify(m.blocks ?? []).includes(`"value":"${id}"`));
    if (!plan) usage(`no message with a button for ${id} on the Slack double`);
    body = blockActionBody({
      actionId,
      value: id,
      user,
      channel: plan.channel,
      messageTs: plan.ts,
      blocks: plan.blocks ?? [],
      responseUrl,
    });
  } else if (first?.startsWith('/rotate')) {
    const text = first.slice('/rotate'.length).trim();
    body = slashCommandBody({ text, user, channel: flags.channel ?? 'C_PLATFORM', responseUrl });
  } else {
    usage();
  }
  const res = await postSigned(info.slackEvents, info.slackSigningSecret, body);
  console.log(`→ ${info.slackEvents}: HTTP ${res.status}${res.body ? ` ${res.body}` : ''}`);
  await new Promise((r) => setTimeout(r, Number(flags.wait ?? 2_000)));
  const calls = await getJson<SlackCall[]>(`${origin}/_calls?since=${since}`);
  const shown = calls.filter((c) => !['auth.test', 'usergroups.users.list', 'users.info'].includes(c.method));
  if (!shown.length) console.log('(the bot posted nothing yet; try again with --wait 5000)');
  shown.forEach(print);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
