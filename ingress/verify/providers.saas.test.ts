import { Signature } from '@hubspot/api-client';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { describe, expect, it } from 'vitest';
import { jsonDelivery, mac, PUBLIC_URL, providerSuite } from './providers.test-helper.ts';

// SaaS senders. HubSpot, Svix and Standard Webhooks sign with their own npm code; the others follow
// the sample code of their documentation, in node:crypto.

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
/** Standard Webhooks (Svix's the same, its headers named svix-): message id, whole seconds, the SDK's sign. */
const standardSigned =
  (
    prefix: 'svix' | 'webhook',
    signer: { sign(id: string, at: Date, body: string): string },
    id: string,
    payload: object,
  ) =>
  (now: number) => {
    const at = new Date(Math.floor(now / 1000) * 1000);
    return jsonDelivery(payload, (body) => ({
      [`${prefix}-id`]: id,
      [`${prefix}-timestamp`]: String(at.getTime() / 1000),
      [`${prefix}-signature`]: signer.sign(id, at, body),
    }));
  };
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
    sign: () =>
      jsonDelivery(
        {
          type: 'notification_event',
          id: 'notif_ccd8a4d0',
          topic: 'conversation.user.created',
        },
        (body) => ({
          'X-Hub-Signature': `sha1=${mac('sha1', 'intercom-client-secret-0123456789', body, 'hex')}`,
        }),
      ),
  },
  {
    provider: 'typeform',
    signedBy: "Typeform's sample (Typeform-Signature: sha256=<base64>), node:crypto",
    secret: 'whsec_typeform-0123456789abcdef',
    sign: () =>
      jsonDelivery(
        {
          event_id: '01HBW6P3R1',
          event_type: 'form_response',
          form_response: { form_id: 'x' },
        },
        (body) => ({
          'Typeform-Signature': `sha256=${mac('sha256', 'whsec_typeform-0123456789abcdef', body, 'base64')}`,
        }),
      ),
  },
  {
    provider: 'calendly',
    signedBy: "Calendly's sample (t=<s>,v1=HMAC of t.body), node:crypto",
    secret: 'whsec_calendly-0123456789abcdef',
    sign: (now) => {
      const t = Math.floor(now / 1000);
      return jsonDelivery(
        {
          event: 'invitee.created',
          payload: { uri: 'https://api.calendly.com/x' },
        },
        (body) => ({
          'Calendly-Webhook-Signature': `t=${t},v1=${mac('sha256', 'whsec_calendly-0123456789abcdef', `${t}.${body}`, 'hex')}`,
        }),
      );
    },
  },
  {
    provider: 'linear',
    signedBy: "Linear's sample (hex HMAC of the body; webhookTimestamp in the signed body), node:crypto",
    secret: 'lin_wh_0123456789abcdef0123456789',
    sign: (now) =>
      jsonDelivery(
        {
          action: 'create',
          type: 'Issue',
          data: { id: 'i1' },
          webhookTimestamp: now,
        },
        (body) => ({
          'Linear-Signature': mac('sha256', 'lin_wh_0123456789abcdef0123456789', body, 'hex'),
          'Linear-Delivery': 'd1',
        }),
      ),
  },
  {
    provider: 'zendesk',
    signedBy: "Zendesk's recipe (base64 HMAC of timestamp + body), node:crypto",
    secret: ZENDESK_SECRET,
    sign: (now) => {
      const ts = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
      return jsonDelivery({ type: 'zen:event-type:ticket.created', id: 'e1' }, (body) => ({
        'X-Zendesk-Webhook-Signature': mac('sha256', ZENDESK_SECRET, ts + body, 'base64'),
        'X-Zendesk-Webhook-Signature-Timestamp': ts,
        'X-Zendesk-Webhook-Invocation-Id': '8350205582',
      }));
    },
  },
  {
    provider: 'svix',
    signedBy: 'svix Webhook.sign',
    secret: SVIX_SECRET,
    sign: standardSigned('svix', new SvixWebhook(SVIX_SECRET), 'msg_p5jXN8AQM9LWM0D4loKWxJek', {
      type: 'user.created',
      data: { id: 'user_29w83sxmDNGwOuEthce5gg56FcC' },
    }),
  },
  {
    provider: 'standard-webhooks',
    signedBy: 'standardwebhooks Webhook.sign',
    secret: SW_SECRET,
    sign: standardSigned('webhook', new StandardWebhook(SW_SECRET), 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', {
      type: 'invoice.paid',
      data: { id: 'in_1' },
    }),
  },
]);
