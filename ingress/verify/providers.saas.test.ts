import { createHmac } from 'node:crypto';
import { Signature } from '@hubspot/api-client';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it } from 'vitest';
import { PUBLIC_URL, providerSuite } from './providers.test-helper.ts';

// SaaS senders. HubSpot, Svix and Standard Webhooks sign with their own npm code; the others follow
// the sample code of their documentation, in node:crypto.

const mac = (algorithm: string, key: string, text: string, encoding: 'hex' | 'base64') =>
  createHmac(algorithm, key).update(text).digest(encoding);

const HUBSPOT_SECRET = 'hubspot-client-secret-0123456789';
const SVIX_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SW_SECRET = `whsec_${Buffer.from('standard-webhooks-key-0123456789').toString('base64')}`;
// getSignature's options type asks for the signature it is about to compute; it reads only these.
const hubspotSign = (requestBody: string, timestamp: number) =>
  Signature.getSignature('POST', 'v3', {
    clientSecret: HUBSPOT_SECRET,
    requestBody,
    url: PUBLIC_URL,
    timestamp,
    signature: '',
  });
const ZENDESK_SECRET = 'HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=';

describe("providers' own verifiers accept the recipe used below", () => {
  it('HubSpot (Signature.isValid, v3)', () => {
    const body = '[{"eventId":1,"subscriptionType":"contact.creation"}]';
    const timestamp = Date.now();
    const signature = hubspotSign(body, timestamp);
    const valid = Signature.isValid({
      signatureVersion: 'v3',
      signature,
      clientSecret: HUBSPOT_SECRET,
      requestBody: body,
      url: PUBLIC_URL,
      timestamp,
    });
    expect(valid).toBe(true);
  });
});

providerSuite([
  {
    provider: 'hubspot',
    signedBy: '@hubspot/api-client Signature.getSignature (v3: method + URL + body + timestamp)',
    secret: HUBSPOT_SECRET,
    sign: (now) => {
      const body = JSON.stringify([
        { eventId: 1734812, subscriptionType: 'contact.creation', objectId: 123 },
      ]);
      const signature = hubspotSign(body, now);
      return {
        body,
        headers: { 'X-HubSpot-Signature-v3': signature, 'X-HubSpot-Request-Timestamp': String(now) },
      };
    },
  },
  {
    provider: 'intercom',
    signedBy: "Intercom's recipe (X-Hub-Signature: sha1=<hex>, client secret), node:crypto",
    secret: 'intercom-client-secret-0123456789',
    sign: () => {
      const body = JSON.stringify({
        type: 'notification_event',
        id: 'notif_ccd8a4d0',
        topic: 'conversation.user.created',
      });
      return {
        body,
        headers: {
          'X-Hub-Signature': `sha1=${mac('sha1', 'intercom-client-secret-0123456789', body, 'hex')}`,
        },
      };
    },
  },
  {
    provider: 'typeform',
    signedBy: "Typeform's sample (Typeform-Signature: sha256=<base64>), node:crypto",
    secret: 'whsec_typeform-0123456789abcdef',
    sign: () => {
      const body = JSON.stringify({
        event_id: '01HBW6P3R1',
        event_type: 'form_response',
        form_response: { form_id: 'x' },
      });
      return {
        body,
        headers: {
          'Typeform-Signature': `sha256=${mac('sha256', 'whsec_typeform-0123456789abcdef', body, 'base64')}`,
        },
      };
    },
  },
  {
    provider: 'calendly',
    signedBy: "Calendly's sample (t=<s>,v1=HMAC of t.body), node:crypto",
    secret: 'whsec_calendly-0123456789abcdef',
    sign: (now) => {
      const body = JSON.stringify({
        event: 'invitee.created',
        payload: { uri: 'https://api.calendly.com/x' },
      });
      const t = Math.floor(now / 1000);
      return {
        body,
        headers: {
          'Calendly-Webhook-Signature': `t=${t},v1=${mac('sha256', 'whsec_calendly-0123456789abcdef', `${t}.${body}`, 'hex')}`,
        },
      };
    },
  },
  {
    provider: 'linear',
    signedBy: "Linear's sample (hex HMAC of the body; webhookTimestamp in the signed body), node:crypto",
    secret: 'lin_wh_0123456789abcdef0123456789',
    sign: (now) => {
      const body = JSON.stringify({
        action: 'create',
        type: 'Issue',
        data: { id: 'i1' },
        webhookTimestamp: now,
      });
      return {
        body,
        headers: {
          'Linear-Signature': mac('sha256', 'lin_wh_0123456789abcdef0123456789', body, 'hex'),
          'Linear-Delivery': 'd1',
        },
      };
    },
  },
  {
    provider: 'zendesk',
    signedBy: "Zendesk's recipe (base64 HMAC of timestamp + body), node:crypto",
    secret: ZENDESK_SECRET,
    sign: (now) => {
      const body = JSON.stringify({ type: 'zen:event-type:ticket.created', id: 'e1' });
      const ts = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
      return {
        body,
        headers: {
          'X-Zendesk-Webhook-Signature': mac('sha256', ZENDESK_SECRET, ts + body, 'base64'),
          'X-Zendesk-Webhook-Signature-Timestamp': ts,
          'X-Zendesk-Webhook-Invocation-Id': '8350205582',
        },
      };
    },
  },
  {
    provider: 'svix',
    signedBy: 'svix Webhook.sign',
    secret: SVIX_SECRET,
    sign: (now) => {
      const body = JSON.stringify({ type: 'user.created', data: { id: 'user_29w83sxmDNGwOuEthce5gg56FcC' } });
      const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
      const ts = new Date(Math.floor(now / 1000) * 1000);
      return {
        body,
        headers: {
          'svix-id': id,
          'svix-timestamp': String(ts.getTime() / 1000),
          'svix-signature': new SvixWebhook(SVIX_SECRET).sign(id, ts, body),
        },
      };
    },
  },
  {
    provider: 'standard-webhooks',
    signedBy: 'standardwebhooks Webhook.sign',
    secret: SW_SECRET,
    sign: (now) => {
      const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'in_1' } });
      const id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
      const ts = new Date(Math.floor(now / 1000) * 1000);
      return {
        body,
        headers: {
          'webhook-id': id,
          'webhook-timestamp': String(ts.getTime() / 1000),
          'webhook-signature': new StandardWebhook(SW_SECRET).sign(id, ts, body),
        },
      };
    },
  },
]);
