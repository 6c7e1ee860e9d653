import { sign as cryptoSign, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import CRC32 from 'crc-32';
import { verifyKey } from 'discord-interactions';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Registry } from 'prom-client';
import nacl from 'tweetnacl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentityVerifier, Route } from '../api/v1alpha1/index.ts';
import { buildApp } from './app.ts';
import { MemoryLauncher, MemoryRoutes, testRoute } from './http/fakes.test-helper.ts';
import {
  certificateHost,
  confirmsSnsSubscriptions,
  serveHttps,
  TestCa,
  type TestServer,
} from './outbound/tls.test-helper.ts';
import { Identities } from './verify/identity.ts';
import { canonicalString, type SnsMessage } from './verify/sns.ts';

// Every identity sender through the ingress's HTTP layer (app.inject): signed with the providers'
// own code where npm has it (tweetnacl checked by discord-interactions; node:crypto ECDSA as
// SendGrid's verification key expects; jose for OIDC tokens), certificates and key sets served by
// loopback https stand-ins for SNS, PayPal and a GitHub Actions issuer under a CA of the test's own.
const SNS_HOST = 'sns.us-east-1.amazonaws.com';
const PAYPAL_HOST = 'api-m.paypal.com';
const ISSUER_HOST = 'token.actions.githubusercontent.com';
const ISSUER = `https://${ISSUER_HOST}`;
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:deploys';
const AUDIENCE = 'https://hooks.example.com/hooks/team-a/deploy';

let ca: TestCa;
let sns: TestServer;
let paypal: TestServer;
let issuer: TestServer;
let snsKey: KeyObject;
let paypalKey: KeyObject;
let oidcKey: Awaited<ReturnType<typeof generateKeyPair>>;
const discord = nacl.sign.keyPair();
const stranger = nacl.sign.keyPair();
const sendgrid = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

beforeAll(async () => {
  ca = await TestCa.create();
  const under = { ca, intermediate: await ca.intermediate('Test intermediate') };
  const snsHost = await certificateHost(SNS_HOST, 'sns.amazonaws.com', {
    under,
    other: confirmsSnsSubscriptions,
  });
  const paypalHost = await certificateHost(PAYPAL_HOST, 'messageverificationcerts.paypal.com', { under });
  [sns, snsKey] = [snsHost.server, snsHost.leaf.key];
  [paypal, paypalKey] = [paypalHost.server, paypalHost.leaf.key];
  oidcKey = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(oidcKey.publicKey)), kid: 'k1', alg: 'ES256' };
  issuer = await serveHttps(ca, [ISSUER_HOST], (req, res) =>
    req.url === '/.well-known/openid-configuration'
      ? res.end(JSON.stringify({ issuer: ISSUER, jwks_uri: `${ISSUER}/.well-known/jwks` }))
      : res.end(JSON.stringify({ keys: [jwk] })),
  );
});
afterAll(async () => {
  await Promise.all([sns?.close(), paypal?.close(), issuer?.close()]);
});

function setup(identity: IdentityVerifier, route: Partial<Parameters<typeof testRoute>[0]> = {}, up = true) {
  const hosts = up
    ? { [SNS_HOST]: sns.port, [PAYPAL_HOST]: paypal.port, [ISSUER_HOST]: issuer.port }
    : { [SNS_HOST]: 1, [PAYPAL_HOST]: 1, [ISSUER_HOST]: 1 };
  const launcher = new MemoryLauncher();
  const recorded: { topic: string; state: string }[] = [];
  const r: Route = testRoute({ ...route, auth: { identity } });
  const app = buildApp({
    routes: new MemoryRoutes([r]),
    launcher,
    registry: new Registry(),
    identities: new Identities({ testing: { ca: [ca.pem], hosts } }),
    recordSns: (_route, s) => recorded.push(s),
  });
  const post = (body: string | Buffer, headers: Record<string, string>, contentType = 'application/json') =>
    app.inject({
      method: 'POST',
      url: r.path,
      payload: body,
      headers: { 'content-type': contentType, ...headers },
    });
  return { app, launcher, post, recorded };
}

const flip = (text: string) => text.replace(/"/, "'");

describe('discord', () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const identity: IdentityVerifier = {
    type: 'public-key',
    format: 'discord',
    keys: [hex(discord.publicKey)],
    toleranceSeconds: 300,
  };
  const signed = (body: string, key = discord.secretKey) => {
    const ts = String(Math.floor(Date.now() / 1000));
    return {
      'x-signature-timestamp': ts,
      'x-signature-ed25519': hex(nacl.sign.detached(Buffer.from(ts + body), key)),
    };
  };
  const interaction = JSON.stringify({ type: 2, id: '1234', data: { name: 'deploy' } });

  it('202 and a run for a verified interaction; a replay is the same run', async () => {
    const { post, launcher } = setup(identity);
    const h = signed(interaction);
    expect(
      await verifyKey(interaction, h['x-signature-ed25519'], h['x-signature-timestamp'], identity.keys[0]!),
    ).toBe(true);
    expect((await post(interaction, h)).statusCode).toBe(202);
    const replay = await post(interaction, h);
    expect([replay.statusCode, replay.json().duplicate]).toEqual([200, true]);
    expect(launcher.runs.size).toBe(1);
  });
  it('401 for one flipped byte and for a key not pinned (Discord’s deliberate bad signatures)', async () => {
    const { post, launcher } = setup(identity);
    expect((await post(flip(interaction), signed(interaction))).statusCode).toBe(401);
    expect((await post(interaction, signed(interaction, stranger.secretKey))).statusCode).toBe(401);
    expect(launcher.runs.size).toBe(0);
  });
  it('answers a PING {"type":1} and never runs it', async () => {
    const { post, launcher } = setup(identity);
    const ping = JSON.stringify({ type: 1, id: '1', application_id: '2' });
    const res = await post(ping, signed(ping));
    expect([res.statusCode, res.json()]).toEqual([200, { type: 1 }]);
    expect(launcher.runs.size).toBe(0);
  });
  it('answers interactions with the configured body (a deferred response) and names the run in a header', async () => {
    const { post, launcher } = setup(identity, { response: { statusCode: 200, body: { type: 5 } } });
    const res = await post(interaction, signed(interaction));
    expect([res.statusCode, res.json()]).toEqual([200, { type: 5 }]);
    expect(launcher.runs.has(res.headers['hookgate-run'] as string)).toBe(true);
  });
});

describe('standard webhooks v1a and sendgrid', () => {
  it('v1a: 202 signed, 401 flipped', async () => {
    const identity: IdentityVerifier = {
      type: 'public-key',
      format: 'standard-webhooks-v1a',
      keys: [`whpk_${Buffer.from(discord.publicKey).toString('base64')}`],
      toleranceSeconds: 300,
    };
    const { post } = setup(identity);
    const body = '{"type":"user.created"}';
    const id = `msg_${randomUUID()}`;
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = Buffer.from(
      nacl.sign.detached(Buffer.from(`${id}.${ts}.${body}`), discord.secretKey),
    ).toString('base64');
    const h = {
      'webhook-id': id,
      'webhook-timestamp': ts,
      'webhook-signature': `v1,${'A'.repeat(43)}= v1a,${sig}`,
    };
    expect((await post(body, h)).statusCode).toBe(202);
    expect((await post(flip(body), h)).statusCode).toBe(401);
  });
  it('sendgrid: 202 signed, 401 flipped or by another key, a replay no second run', async () => {
    const key = sendgrid.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    const { post, launcher } = setup({
      type: 'public-key',
      format: 'sendgrid',
      keys: [key],
      toleranceSeconds: 300,
    });
    const body = '[{"event":"delivered","sg_event_id":"e1"}]';
    const sign = (k: KeyObject) => {
      const ts = String(Math.floor(Date.now() / 1000));
      return {
        'x-twilio-email-event-webhook-timestamp': ts,
        'x-twilio-email-event-webhook-signature': cryptoSign('sha256', Buffer.from(ts + body), {
          key: k,
          dsaEncoding: 'der',
        }).toString('base64'),
      };
    };
    const h = sign(sendgrid.privateKey);
    expect((await post(body, h)).statusCode).toBe(202);
    expect((await post(body, h)).statusCode).toBe(200);
    expect((await post(flip(body), h)).statusCode).toBe(401);
    const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect((await post(body, sign(other.privateKey))).statusCode).toBe(401);
    expect(launcher.runs.size).toBe(1);
  });
});

describe('aws-sns', () => {
  const identity: IdentityVerifier = {
    type: 'aws-sns',
    topics: [TOPIC],
    confirm: true,
    toleranceSeconds: 3600,
  };
  const message = (type: SnsMessage['Type'], over: Partial<SnsMessage> = {}) => {
    const m = {
      Type: type,
      MessageId: randomUUID(),
      TopicArn: TOPIC,
      Message: type === 'Notification' ? '{"alarm":"cpu"}' : 'confirm it',
      ...(type === 'Notification'
        ? {}
        : { SubscribeURL: `https://${SNS_HOST}/?Action=ConfirmSubscription&Token=t1`, Token: 't1' }),
      Timestamp: new Date().toISOString(),
      SignatureVersion: '2',
      SigningCertURL: `https://${SNS_HOST}/SimpleNotificationService-1.pem`,
      Signature: '',
      ...over,
    } as SnsMessage;
    m.Signature = cryptoSign('sha256', Buffer.from(canonicalString(m)), snsKey).toString('base64');
    return JSON.stringify(m);
  };
  const post = (s: ReturnType<typeof setup>, body: string) => s.post(body, {}, 'text/plain; charset=UTF-8');

  it('202 for a Notification; a replay (SNS retries with the same MessageId) is no second run', async () => {
    const s = setup(identity);
    const body = message('Notification');
    expect((await post(s, body)).statusCode).toBe(202);
    expect((await post(s, body)).statusCode).toBe(200);
    expect(s.launcher.runs.size).toBe(1);
  });
  it('401 for a flipped byte and for a topic not allowed', async () => {
    const s = setup(identity);
    expect((await post(s, message('Notification').replace('cpu', 'cpv'))).statusCode).toBe(401);
    expect((await post(s, message('Notification', { TopicArn: `${TOPIC}-other` }))).statusCode).toBe(401);
    expect(s.launcher.runs.size).toBe(0);
  });
  it('confirms a subscription by fetching SubscribeURL, records it, and never runs it', async () => {
    const s = setup(identity);
    const before = sns.requests.filter((u) => u.startsWith('/?Action=ConfirmSubscription')).length;
    const res = await post(s, message('SubscriptionConfirmation'));
    expect([res.statusCode, res.json()]).toEqual([200, { confirmed: true }]);
    expect(sns.requests.filter((u) => u.startsWith('/?Action=ConfirmSubscription')).length).toBe(before + 1);
    expect(s.recorded).toEqual([{ topic: TOPIC, state: 'Confirmed' }]);
    const bye = await post(s, message('UnsubscribeConfirmation'));
    expect(bye.statusCode).toBe(200);
    expect(s.recorded.at(-1)).toEqual({ topic: TOPIC, state: 'Unsubscribed' });
    expect(s.launcher.runs.size).toBe(0);
  });
  it('refuses a confirmation whose SubscribeURL is not on SNS’s host, without calling it', async () => {
    const s = setup(identity);
    const res = await post(
      s,
      message('SubscriptionConfirmation', { SubscribeURL: 'https://evil.example/?x' }),
    );
    expect(res.statusCode).toBe(401);
    expect(s.recorded).toEqual([]);
  });
  it('503 with Retry-After and no run when the certificate host cannot be reached', async () => {
    const s = setup(identity, {}, false);
    const res = await post(s, message('Notification'));
    expect(res.statusCode).toBe(503);
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(s.launcher.runs.size).toBe(0);
  });
});

describe('paypal', () => {
  const identity: IdentityVerifier = { type: 'paypal', webhookId: 'WH1', toleranceSeconds: 300 };
  const body = '{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED"}';
  const headers = (b = body) => {
    const id = randomUUID();
    const time = new Date().toISOString();
    return {
      'paypal-transmission-id': id,
      'paypal-transmission-time': time,
      'paypal-cert-url': `https://${PAYPAL_HOST}/v1/notifications/certs/CERT-1`,
      'paypal-auth-algo': 'SHA256withRSA',
      'paypal-transmission-sig': cryptoSign(
        'sha256',
        Buffer.from(`${id}|${time}|WH1|${CRC32.str(b) >>> 0}`),
        paypalKey,
      ).toString('base64'),
    };
  };
  it('202 signed, 401 flipped, a replay no second run', async () => {
    const s = setup(identity);
    const h = headers();
    expect((await s.post(body, h)).statusCode).toBe(202);
    expect((await s.post(body, h)).statusCode).toBe(200);
    expect((await s.post(flip(body), h)).statusCode).toBe(401);
    expect(s.launcher.runs.size).toBe(1);
  });
  it('503 with Retry-After and no run when the certificate host cannot be reached', async () => {
    const s = setup(identity, {}, false);
    const res = await s.post(body, headers());
    expect([res.statusCode, Number(res.headers['retry-after']) > 0, s.launcher.runs.size]).toEqual([
      503,
      true,
      0,
    ]);
  });
});

describe('oidc (GitHub Actions)', () => {
  const identity: IdentityVerifier = {
    type: 'oidc',
    issuer: ISSUER,
    audiences: [AUDIENCE],
    claims: [{ claim: 'repository', value: 'acme/app' }],
  };
  const token = (over: { aud?: string; iss?: string; repository?: string } = {}) =>
    new SignJWT({ repository: over.repository ?? 'acme/app', jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(over.iss ?? ISSUER)
      .setAudience(over.aud ?? AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(oidcKey.privateKey);
  const bearer = async (t: Promise<string>) => ({ authorization: `Bearer ${await t}` });
  const body = '{"ref":"refs/heads/main"}';

  it('202 for a valid token; the same request again is no second run', async () => {
    const s = setup(identity);
    const h = await bearer(token());
    expect((await s.post(body, h)).statusCode).toBe(202);
    expect((await s.post(body, h)).statusCode).toBe(200);
    expect(s.launcher.runs.size).toBe(1);
  });
  it('401 for a wrong audience, issuer or claim, and for no token', async () => {
    const s = setup(identity);
    for (const t of [
      token({ aud: 'https://other.example' }),
      token({ iss: 'https://evil.example' }),
      token({ repository: 'x/y' }),
    ])
      expect((await s.post(body, await bearer(t))).statusCode).toBe(401);
    expect((await s.post(body, {})).statusCode).toBe(401);
    expect(s.launcher.runs.size).toBe(0);
  });
  it('503 with Retry-After and no run when the issuer cannot be reached', async () => {
    const s = setup(identity, {}, false);
    const res = await s.post(body, await bearer(token()));
    expect([res.statusCode, Number(res.headers['retry-after']) > 0, s.launcher.runs.size]).toEqual([
      503,
      true,
      0,
    ]);
  });
});
