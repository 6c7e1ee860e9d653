import '@shopify/shopify-api/adapters/node';
import { Paddle } from '@paddle/paddle-node-sdk';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { WebhooksHelper } from 'square';
import Stripe from 'stripe';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { jsonDelivery, mac, PUBLIC_URL, providerSuite } from './providers.test-helper.ts';

// Payment and commerce senders. Stripe and Twilio sign with their own npm code; Shopify, Square
// and Paddle publish verifiers, not signers, so their deliveries are signed by their recipe and
// each is checked by the provider's own verifier first (so the recipe is theirs, not ours).

const SHOPIFY_SECRET = 'shpss_0123456789abcdef0123456789abcdef';
const shopify = shopifyApi({
  apiKey: 'key',
  apiSecretKey: SHOPIFY_SECRET,
  apiVersion: ApiVersion.October25,
  hostName: 'hooks.example.com',
  isEmbeddedApp: false,
  logger: { level: 0, log: async () => {} },
});
const shopifyDelivery = () =>
  jsonDelivery({ id: 820982911946154500, email: 'jon@example.com', total_price: '10.00' }, (body) => ({
    'X-Shopify-Hmac-Sha256': mac('sha256', SHOPIFY_SECRET, body, 'base64'),
    'X-Shopify-Topic': 'orders/create',
    'X-Shopify-Shop-Domain': 'example.myshopify.com',
    'X-Shopify-API-Version': '2025-10',
    'X-Shopify-Webhook-Id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
  }));

const SQUARE_KEY = 'square-signature-key-0123456789';
const squareDelivery = () =>
  jsonDelivery(
    {
      merchant_id: 'ML8M1AQ1GQG2K',
      type: 'payment.created',
      event_id: '6a8f5f28-54a1',
    },
    (body) => ({ 'x-square-hmacsha256-signature': mac('sha256', SQUARE_KEY, PUBLIC_URL + body, 'base64') }),
  );

const PADDLE_SECRET = 'pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYAShQI90XTI5vEI';
const paddleDelivery = (now: number) => {
  const ts = Math.floor(now / 1000);
  return jsonDelivery(
    {
      event_id: 'evt_01h8441jx8x1q971q9ksksqh82',
      event_type: 'transaction.paid',
      data: {},
    },
    (body) => ({ 'Paddle-Signature': `ts=${ts};h1=${mac('sha256', PADDLE_SECRET, `${ts}:${body}`, 'hex')}` }),
  );
};

const TWILIO_TOKEN = 'twilio-auth-token-0123456789abcd';
const TWILIO_FORM = {
  AccountSid: 'AC0123456789abcdef0123456789abcdef',
  Body: 'deploy prod',
  From: '+14155550100',
  MessageSid: 'SM0123456789abcdef0123456789abcdef',
  To: '+14155550199',
};

describe("providers' own verifiers accept the recipe used below", () => {
  it('Shopify (shopify.webhooks.validate)', async () => {
    const { body, headers } = shopifyDelivery();
    const rawRequest = { headers: lower(headers), method: 'POST', url: '/' };
    const result = await shopify.webhooks.validate({ rawBody: body, rawRequest: rawRequest as never });
    expect(result.valid).toBe(true);
  });
  it('Square (WebhooksHelper.verifySignature)', async () => {
    const { body, headers } = squareDelivery();
    const signatureHeader = headers['x-square-hmacsha256-signature']!;
    expect(
      await WebhooksHelper.verifySignature({
        requestBody: body,
        signatureHeader,
        signatureKey: SQUARE_KEY,
        notificationUrl: PUBLIC_URL,
      }),
    ).toBe(true);
  });
  it('Paddle (paddle.webhooks.isSignatureValid)', async () => {
    const { body, headers } = paddleDelivery(Date.now());
    const paddle = new Paddle('pdl_sdbx_apikey_0123456789');
    expect(await paddle.webhooks.isSignatureValid(body, PADDLE_SECRET, headers['Paddle-Signature']!)).toBe(
      true,
    );
  });
  it('Twilio (twilio.validateRequest)', () => {
    const signature = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, PUBLIC_URL, TWILIO_FORM);
    expect(twilio.validateRequest(TWILIO_TOKEN, signature, PUBLIC_URL, TWILIO_FORM)).toBe(true);
  });
});

const lower = (h: Record<string, string>) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

const MAILGUN_KEY = 'key-mailgun-signing-0123456789ab';
const mailgunBody = (now: number, token = 'a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0') => {
  const timestamp = String(Math.floor(now / 1000));
  return JSON.stringify({
    signature: { timestamp, token, signature: mac('sha256', MAILGUN_KEY, timestamp + token, 'hex') },
    'event-data': { id: 'CPgfbmQMTCKtHW6uIWtuVe', event: 'delivered' },
  });
};

providerSuite([
  {
    provider: 'stripe',
    signedBy: 'stripe.webhooks.generateTestHeaderString',
    secret: 'whsec_test_secret_0123456789abcdef',
    sign: (now) => {
      const body = JSON.stringify({ id: 'evt_1NG8Du2eZvKYlo2CUI79vXWy', type: 'checkout.session.completed' });
      const header = Stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: 'whsec_test_secret_0123456789abcdef',
        timestamp: Math.floor(now / 1000),
      });
      return { body, headers: { 'Stripe-Signature': header } };
    },
  },
  {
    provider: 'shopify',
    signedBy: "Shopify's recipe (base64 HMAC of the body), as shopify.webhooks.validate accepts it",
    secret: SHOPIFY_SECRET,
    sign: shopifyDelivery,
  },
  {
    provider: 'square',
    signedBy:
      "Square's recipe (base64 HMAC of notification URL + body), as WebhooksHelper.verifySignature accepts it",
    secret: SQUARE_KEY,
    sign: squareDelivery,
  },
  {
    provider: 'paddle',
    signedBy: "Paddle's recipe (ts=..;h1=HMAC of ts:body), as paddle.webhooks.isSignatureValid accepts it",
    secret: PADDLE_SECRET,
    sign: paddleDelivery,
  },
  {
    provider: 'twilio',
    signedBy: 'twilio.getExpectedTwilioSignature (URL + sorted form fields)',
    secret: TWILIO_TOKEN,
    sign: () => ({
      body: new URLSearchParams(TWILIO_FORM).toString(),
      contentType: 'application/x-www-form-urlencoded',
      headers: {
        'X-Twilio-Signature': twilio.getExpectedTwilioSignature(TWILIO_TOKEN, PUBLIC_URL, TWILIO_FORM),
        'I-Twilio-Idempotency-Token': '6f8e2b1a-6c1d-4a55-9f0e-2b7d3c1a0e11',
      },
    }),
  },
  {
    provider: 'mailgun',
    signedBy: "Mailgun's sample (hex HMAC of timestamp + token, in the body), node:crypto",
    secret: MAILGUN_KEY,
    sign: (now) => ({ body: mailgunBody(now), headers: {} }),
    // Mailgun signs its timestamp and token, not the event: change a byte of the token.
    tamper: (d) => ({ ...d, body: d.body.replace('"token":"a8', '"token":"b8') }),
  },
  {
    provider: 'postmark',
    signedBy: 'Postmark: the bearer token in a custom Authorization header',
    secret: 'hgt_postmark-token-0123456789abcdef',
    sign: () => ({
      body: JSON.stringify({ RecordType: 'Delivery', MessageID: '883953f4-6105-42a2-a16a-77a8eac79483' }),
      headers: { Authorization: 'Bearer hgt_postmark-token-0123456789abcdef' },
    }),
    tamper: (d) => ({ ...d, headers: { Authorization: 'Bearer hgt_postmark-token-0123456789abcdeF' } }),
  },
]);
