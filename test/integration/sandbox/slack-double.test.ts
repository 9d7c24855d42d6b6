import { createSlackDouble, type SlackDouble } from '../../../sandbox/slack';

const TOKEN = 'xoxb-test-double';

describe('Slack Web API double (raw HTTP)', () => {
  let slack: SlackDouble;
  beforeEach(async () => {
    slack = await createSlackDouble({ botToken: TOKEN });
  });
  afterEach(() => slack.close());

  const post = (method: string, form: Record<string, string>, token = TOKEN) =>
    fetch(`${slack.url}${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${token}` },
      body: new URLSearchParams(form).toString(),
    });

  describe('when the token is wrong', () => {
    it('answers HTTP 200 with ok:false invalid_auth, as Slack does', async () => {
      const res = await post('chat.postMessage', { channel: 'C_PLATFORM', text: 'hi' }, 'xoxb-wrong');
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: false, error: 'invalid_auth' });
    });
  });

  describe('when a call carries its token in the body', () => {
    it('authenticates it but does not record the token with what was said', async () => {
      const res = await fetch(`${slack.url}auth.test`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token: TOKEN }).toString(),
      });
      expect(((await res.json()) as { ok: boolean }).ok).toBe(true);
      expect(JSON.stringify(slack.calls())).not.toContain(TOKEN);
    });
  });

  describe('when a response_url is used more than five times', () => {
    it('refuses the sixth use with 404 used_url', async () => {
      const url = slack.responseUrl('cmd-1');
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ text: `answer ${i}` }),
        });
        statuses.push(res.status);
        if (i === 5) expect(await res.json()).toEqual({ ok: false, error: 'used_url' });
      }
      expect(statuses).toEqual([200, 200, 200, 200, 200, 404]);
    });
  });

  describe('when a message is posted without text or blocks', () => {
    it('answers no_text', async () => {
      expect(await (await post('chat.postMessage', { channel: 'C_PLATFORM' })).json()).toMatchObject({
        ok: false,
        error: 'no_text',
      });
    });
  });

  describe('when a message goes to a channel', () => {
    const reply = async (method: string, form: Record<string, string>) =>
      (await (await post(method, form)).json()) as Record<string, unknown>;

    it('answers channel_not_found for a channel the workspace does not have', async () => {
      expect(await reply('chat.postMessage', { channel: 'C_NOWHERE', text: 'hi' })).toEqual({
        ok: false,
        error: 'channel_not_found',
      });
      expect(await reply('conversations.info', { channel: 'C_NOWHERE' })).toEqual({
        ok: false,
        error: 'channel_not_found',
      });
    });

    it('answers is_archived for an archived channel', async () => {
      slack.addChannel({ id: 'C_OLD', name: 'old-payments', archived: true });
      expect(await reply('chat.postMessage', { channel: 'C_OLD', text: 'hi' })).toMatchObject({
        error: 'is_archived',
      });
    });

    it('posts to a public channel the bot is not in only with chat:write.public', async () => {
      slack.addChannel({ id: 'C_OUTSIDE', name: 'outside', botMember: false });
      expect(await reply('chat.postMessage', { channel: 'C_OUTSIDE', text: 'hi' })).toMatchObject({
        ok: true,
      });
      const narrow = await createSlackDouble({ botToken: TOKEN, scopes: ['chat:write'] });
      try {
        narrow.addChannel({ id: 'C_OUTSIDE', name: 'outside', botMember: false });
        const res = await fetch(`${narrow.url}chat.postMessage`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${TOKEN}` },
          body: new URLSearchParams({ channel: 'C_OUTSIDE', text: 'hi' }).toString(),
        });
        expect(await res.json()).toEqual({ ok: false, error: 'not_in_channel' });
      } finally {
        await narrow.close();
      }
    });

    it('answers not_in_channel for a private channel the bot is not in, and hides it from conversations.info', async () => {
      slack.addChannel({ id: 'G_SECRET', name: 'secret', private: true, botMember: false });
      expect(await reply('chat.postMessage', { channel: 'G_SECRET', text: 'hi' })).toMatchObject({
        error: 'not_in_channel',
      });
      expect(await reply('conversations.info', { channel: 'G_SECRET' })).toMatchObject({
        error: 'channel_not_found',
      });
    });

    it('accepts a channel name and answers with its id', async () => {
      expect(await reply('chat.postMessage', { channel: '#payments', text: 'hi' })).toMatchObject({
        ok: true,
        channel: 'C_PAYMENTS',
      });
    });

    it('describes a channel with conversations.info, membership included', async () => {
      slack.addChannel({ id: 'C_OUTSIDE', name: 'outside', botMember: false });
      expect(await reply('conversations.info', { channel: 'C_OUTSIDE' })).toMatchObject({
        ok: true,
        channel: {
          id: 'C_OUTSIDE',
          name: 'outside',
          is_member: false,
          is_archived: false,
          is_private: false,
        },
      });
    });
  });

  describe('when calls exceed Slack rate limits (on by default)', () => {
    it('lets a short burst of chat.postMessage into one channel through, then answers 429 with Retry-After', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await post('chat.postMessage', { channel: 'C_PLATFORM', text: `m${i}` })).status);
      expect(statuses).toEqual([200, 200, 200, 200, 429]);
      const limited = await post('chat.postMessage', { channel: 'C_PLATFORM', text: 'again' });
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await limited.json()).toEqual({ ok: false, error: 'ratelimited' });
      // The limit is per channel.
      expect((await post('chat.postMessage', { channel: 'C_PAYMENTS', text: 'elsewhere' })).status).toBe(200);
    });

    it('limits chat.update by its tier across channels', async () => {
      const tight = await createSlackDouble({
        botToken: TOKEN,
        rateLimits: { tiers: { 1: 1, 2: 20, 3: 2, 4: 100 } },
      });
      try {
        const call = (method: string, form: Record<string, string>) =>
          fetch(`${tight.url}${method}`, {
            method: 'POST',
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              authorization: `Bearer ${TOKEN}`,
            },
            body: new URLSearchParams(form).toString(),
          });
        const { ts } = (await (
          await call('chat.postMessage', { channel: 'C_PLATFORM', text: 'x' })
        ).json()) as {
          ts: string;
        };
        const statuses: number[] = [];
        for (let i = 0; i < 3; i++)
          statuses.push((await call('chat.update', { channel: 'C_PLATFORM', ts, text: `v${i}` })).status);
        expect(statuses).toEqual([200, 200, 429]);
        expect(tight.messages('C_PLATFORM')[0]?.text).toBe('v1');
      } finally {
        await tight.close();
      }
    });
  });

  describe('when a method is not modelled', () => {
    it('answers unknown_method, as Slack does for a method that does not exist', async () => {
      expect(await (await post('chat.scheduleMessage', { channel: 'C_PLATFORM', text: 'x' })).json()).toEqual(
        {
          ok: false,
          error: 'unknown_method',
          req_method: 'chat.scheduleMessage',
        },
      );
    });
  });

  describe('when views are published or opened', () => {
    const view = (type: string) =>
      JSON.stringify({ type, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x' } }] });

    it('publishes a home tab for a user and refuses a view that is not one', async () => {
      const ok = (await (await post('views.publish', { user_id: 'U0ALICE', view: view('home') })).json()) as {
        ok: boolean;
        view: { type: string; id: string; hash: string };
      };
      expect(ok).toMatchObject({ ok: true, view: { type: 'home' } });
      expect(
        await (await post('views.publish', { user_id: 'U0ALICE', view: view('modal') })).json(),
      ).toMatchObject({
        ok: false,
        error: 'invalid_arguments',
      });
      expect(
        await (await post('views.publish', { user_id: 'U0ALICE', view: view('home'), hash: 'stale' })).json(),
      ).toMatchObject({ ok: false, error: 'hash_conflict' });
    });

    it("refuses a home view Slack's schema refuses: no user, over 100 blocks, a long section, too large", async () => {
      const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
      const home = (blocks: unknown[]) => JSON.stringify({ type: 'home', blocks });
      expect(await (await post('views.publish', { view: view('home') })).json()).toEqual({
        ok: false,
        error: 'invalid_arguments',
        response_metadata: { messages: ['[ERROR] missing required field: user_id'] },
      });
      const blocks = Array.from({ length: 101 }, () => section('x'));
      expect(await (await post('views.publish', { user_id: 'U0ALICE', view: home(blocks) })).json()).toEqual({
        ok: false,
        error: 'invalid_arguments',
        response_metadata: {
          messages: ['[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]'],
        },
      });
      expect(
        await (await post('views.publish', { user_id: 'U0ALICE', view: home(blocks.slice(1)) })).json(),
      ).toMatchObject({ ok: true });
      const long = home([section('x'), section('y'.repeat(3001))]);
      expect(await (await post('views.publish', { user_id: 'U0ALICE', view: long })).json()).toEqual({
        ok: false,
        error: 'invalid_arguments',
        response_metadata: {
          messages: ['[ERROR] must be less than 3001 characters [json-pointer:/view/blocks/1/text/text]'],
        },
      });
      const huge = home(Array.from({ length: 90 }, () => section('z'.repeat(2900))));
      expect(await (await post('views.publish', { user_id: 'U0ALICE', view: huge })).json()).toEqual({
        ok: false,
        error: 'view_too_large',
      });
    });

    it('opens one modal per trigger_id', async () => {
      const first = await (
        await post('views.open', { trigger_id: '123.456.abc', view: view('modal') })
      ).json();
      expect(first).toMatchObject({ ok: true, view: { type: 'modal' } });
      expect(
        await (await post('views.open', { trigger_id: '123.456.abc', view: view('modal') })).json(),
      ).toEqual({
        ok: false,
        error: 'exchanged_trigger_id',
      });
    });
  });

  describe('when the WebClient calls it', () => {
    it('reports the token scopes on every answer, as Slack does in x-oauth-scopes', async () => {
      const res = await post('auth.test', {});
      expect(res.headers.get('x-oauth-scopes')).toContain('chat:write.public');
    });
  });
});
