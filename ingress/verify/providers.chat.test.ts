import { randomBytes } from 'node:crypto';
import { isValidSlackRequest } from '@slack/bolt';
import { computeWebhookSignature } from 'box-typescript-sdk-gen/internal/utils';
import { WebhooksManager } from 'box-typescript-sdk-gen/managers/webhooks.generated';
import { describe, expect, it } from 'vitest';
import { verify } from './index.ts';
import { jsonDelivery, mac, providerRoute, providerSuite } from './providers.test-helper.ts';

// Chat, collaboration and file senders. Slack's documented example and Box's own SDK code sign
// where they exist; the others follow the sample code in their documentation, in node:crypto.

const seconds = (now: number) => String(Math.floor(now / 1000));

// api.slack.com/authentication/verifying-requests-from-slack, "A recipe for security".
const SLACK = {
  secret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: 1531420618,
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

describe("Slack's documented example", () => {
  it('verifies, at its own time, through the slack row; Bolt agrees', () => {
    const route = providerRoute('slack', SLACK.secret);
    const headers = {
      'x-slack-signature': SLACK.signature,
      'x-slack-request-timestamp': String(SLACK.timestamp),
    };
    const at = SLACK.timestamp * 1000;
    expect(verify(route.auth, { headers, body: Buffer.from(SLACK.body) }, at)).toMatchObject({ ok: true });
    expect(verify(route.auth, { headers, body: Buffer.from(`${SLACK.body}x`) }, at).ok).toBe(false);
    expect(
      isValidSlackRequest({
        signingSecret: SLACK.secret,
        body: SLACK.body,
        headers: { 'x-slack-signature': SLACK.signature, 'x-slack-request-timestamp': SLACK.timestamp },
        nowMilliseconds: at,
      }),
    ).toBe(true);
  });
});

const BOX_PRIMARY = 'SamplePrimaryKey0123456789abcdef';
const boxHeaders = async (body: string, timestamp: string) => {
  const headers: Record<string, string> = {
    'box-delivery-id': 'f96bb54b-ee16-4fc5-aa65-8c2d9e5b546f',
    'box-delivery-timestamp': timestamp,
    'box-signature-algorithm': 'HmacSHA256',
    'box-signature-version': '1',
  };
  headers['box-signature-primary'] = (await computeWebhookSignature(body, headers, BOX_PRIMARY))!;
  headers['box-signature-secondary'] = (await computeWebhookSignature(body, headers, 'SampleSecondaryKey'))!;
  return headers;
};

describe("Box's own verifier", () => {
  it('accepts what the box row signs', async () => {
    const body = '{"type":"webhook_event","id":"eb0e4e80","trigger":"FILE.UPLOADED"}';
    const now = Date.now();
    const route = providerRoute('box', BOX_PRIMARY);
    const timestamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    const headers = await boxHeaders(body, timestamp);
    expect(verify(route.auth, { headers, body: Buffer.from(body) }, now)).toMatchObject({ ok: true });
    expect(await WebhooksManager.validateMessage(body, headers, BOX_PRIMARY)).toBe(true);
  });
});

const TEAMS_TOKEN = randomBytes(32).toString('base64');
const TWITCH_SECRET = 'whsec_s3cr3t-twitch-0123456789';

providerSuite([
  {
    provider: 'slack',
    signedBy: "Slack's recipe (v0=HMAC of v0:<ts>:<body>), node:crypto; its example above",
    secret: SLACK.secret,
    sign: (now) => {
      const ts = seconds(now);
      return jsonDelivery(
        {
          type: 'event_callback',
          event_id: 'Ev0PV52K21',
          event: { type: 'app_mention' },
        },
        (body) => ({
          'X-Slack-Request-Timestamp': ts,
          'X-Slack-Signature': `v0=${mac('sha256', SLACK.secret, `v0:${ts}:${body}`, 'hex')}`,
        }),
      );
    },
  },
  {
    provider: 'zoom',
    signedBy: "Zoom's sample (v0=HMAC of v0:<ts>:<body>), node:crypto",
    secret: 'zoom_secret_token_0123456789',
    sign: (now) => {
      const ts = seconds(now);
      return jsonDelivery(
        {
          event: 'meeting.started',
          event_ts: now,
          payload: { object: { id: '8' } },
        },
        (body) => ({
          'x-zm-request-timestamp': ts,
          'x-zm-signature': `v0=${mac('sha256', 'zoom_secret_token_0123456789', `v0:${ts}:${body}`, 'hex')}`,
        }),
      );
    },
  },
  {
    provider: 'twitch',
    signedBy: "Twitch's sample (getHmacMessage: id + timestamp + body), node:crypto",
    secret: TWITCH_SECRET,
    sign: (now) => {
      const id = 'befa7b53-d79d-478f-86b9-120f112b044e';
      const ts = new Date(now).toISOString().replace('Z', '634234Z');
      return jsonDelivery(
        {
          subscription: { type: 'stream.online' },
          event: { broadcaster_user_id: '1' },
        },
        (body) => ({
          'Twitch-Eventsub-Message-Id': id,
          'Twitch-Eventsub-Message-Timestamp': ts,
          'Twitch-Eventsub-Message-Type': 'notification',
          'Twitch-Eventsub-Message-Signature': `sha256=${mac('sha256', TWITCH_SECRET, id + ts + body, 'hex')}`,
        }),
      );
    },
  },
  {
    provider: 'teams',
    signedBy: "Microsoft's outgoing-webhook sample (HMAC with the base64-decoded token), node:crypto",
    secret: TEAMS_TOKEN,
    sign: () => {
      const body = JSON.stringify({ type: 'message', id: '1485983408511', text: '<at>deploy</at> prod' });
      const digest = mac('sha256', Buffer.from(TEAMS_TOKEN, 'base64'), body, 'base64');
      return { body, headers: { Authorization: `HMAC ${digest}` } };
    },
  },
  {
    provider: 'meta',
    signedBy: "Meta's recipe (X-Hub-Signature-256: sha256=<hex>, app secret), node:crypto",
    secret: 'meta-app-secret-0123456789abcdef',
    sign: () =>
      jsonDelivery(
        {
          object: 'whatsapp_business_account',
          entry: [{ id: '102290129340398' }],
        },
        (body) => ({
          'X-Hub-Signature-256': `sha256=${mac('sha256', 'meta-app-secret-0123456789abcdef', body, 'hex')}`,
        }),
      ),
  },
  {
    provider: 'dropbox',
    signedBy: "Dropbox's recipe (X-Dropbox-Signature: hex HMAC, app secret), node:crypto",
    secret: 'dropbox-app-secret-0123456789',
    sign: () =>
      jsonDelivery(
        {
          list_folder: { accounts: ['dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc'] },
        },
        (body) => ({ 'X-Dropbox-Signature': mac('sha256', 'dropbox-app-secret-0123456789', body, 'hex') }),
      ),
  },
  {
    provider: 'box',
    signedBy: 'box-typescript-sdk-gen computeWebhookSignature (primary and secondary keys)',
    secret: BOX_PRIMARY,
    sign: async (now) => {
      const body =
        '{"type":"webhook_event","id":"eb0e4e80-56ad-4d56-8d9b-4d4d3b1c6b11","trigger":"FILE.UPLOADED"}';
      return { body, headers: await boxHeaders(body, new Date(now).toISOString().replace(/\.\d+Z$/, 'Z')) };
    },
  },
  {
    provider: 'okta',
    signedBy: 'Okta: the configured Authorization value itself',
    secret: 'okta-hook-secret-0123456789abcdef',
    sign: () => ({
      body: JSON.stringify({
        eventType: 'com.okta.event_hook',
        eventId: 'b5a188b9-5ece-4c07-a5f5-a0d7ff1e0e1d',
      }),
      headers: { Authorization: 'okta-hook-secret-0123456789abcdef' },
    }),
    tamper: (d) => ({ ...d, headers: { Authorization: 'okta-hook-secret-0123456789abcdeF' } }),
  },
  {
    provider: 'trello',
    signedBy: "Atlassian's Trello sample (base64 HMAC-SHA1 of body + callbackURL), node:crypto",
    secret: 'trello-app-secret-0123456789abcdef',
    sign: () => {
      const callbackURL = 'https://hooks.example.com/hooks/team-a/deploy';
      return jsonDelivery(
        {
          action: { id: '5f2c6d1c0b1e', type: 'createCard' },
          model: { id: 'b1' },
        },
        (body) => ({
          'X-Trello-Webhook': mac('sha1', 'trello-app-secret-0123456789abcdef', body + callbackURL, 'base64'),
        }),
      );
    },
  },
]);
