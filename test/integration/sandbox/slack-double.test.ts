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
      const res = await post('chat.postMessage', { channel: 'C1', text: 'hi' }, 'xoxb-wrong');
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
      expect(await (await post('chat.postMessage', { channel: 'C1' })).json()).toMatchObject({
        ok: false,
        error: 'no_text',
      });
    });
  });
});
