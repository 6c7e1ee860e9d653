import { sign as cryptoSign, type KeyObject, randomUUID } from 'node:crypto';
import https from 'node:https';
// @ts-expect-error sns-validator ships no types
import MessageValidator from 'sns-validator';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Outbound, OutboundError } from '../outbound/client.ts';
import { serveHttp, serveHttps, TestCa, type TestServer } from '../outbound/tls.test-helper.ts';
import { CertificateStore } from './certificates.ts';
import { canonicalString, type SnsMessage, verifySns } from './sns.ts';

// A stand-in for SNS on loopback: a root CA of the test's own (the only trust anchor), an
// intermediate, and a signing certificate for sns.amazonaws.com served at the SNS host.
const SNS_HOST = 'sns.us-east-1.amazonaws.com';
const AIA_HOST = 'crt.r2m99.amazontrust.com';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:deploys';
const CERT_PATH = '/SimpleNotificationService-test.pem';
const CERT_URL = `https://${SNS_HOST}${CERT_PATH}`;

let root: TestCa;
let signer: { certPem: string; key: KeyObject };
let files: Record<string, string>;
let sns: TestServer;
let aia: TestServer;
let intermediateDer: Buffer;
let aiaKey: KeyObject;

beforeAll(async () => {
  root = await TestCa.create('test root');
  const intermediate = await root.intermediate('Test RSA 2048 M99');
  intermediateDer = Buffer.from(intermediate.cert.rawData);
  signer = await intermediate.issue('sns.amazonaws.com');
  const aiaLeaf = await intermediate.issue('sns.amazonaws.com', { caIssuers: `http://${AIA_HOST}/m99.cer` });
  const other = await intermediate.issue('evil.example');
  const expired = await intermediate.issue('sns.amazonaws.com', {
    notBefore: new Date(Date.now() - 10 * 86_400_000),
    notAfter: new Date(Date.now() - 86_400_000),
  });
  const rogue = await (await TestCa.create('rogue root')).issue('sns.amazonaws.com');
  files = {
    [CERT_PATH]: `${signer.certPem}\n${intermediate.pem}`,
    '/leaf-only.pem': signer.certPem,
    '/aia.pem': aiaLeaf.certPem,
    '/other-name.pem': `${other.certPem}\n${intermediate.pem}`,
    '/expired.pem': `${expired.certPem}\n${intermediate.pem}`,
    '/rogue.pem': rogue.certPem,
    '/ca-as-leaf.pem': `${intermediate.pem}`,
    '/garbage.pem': 'not a certificate',
  };
  aiaKey = aiaLeaf.key;
  sns = await serveHttps(root, [SNS_HOST], (req, res) => {
    const file = files[req.url ?? ''];
    if (file) res.end(file);
    else res.writeHead(404).end();
  });
  aia = await serveHttp((req, res) =>
    req.url === '/m99.cer' ? res.end(intermediateDer) : res.writeHead(404).end(),
  );
});
afterAll(async () => {
  await sns?.close();
  await aia?.close();
});

const store = (hosts: Record<string, number> = { [SNS_HOST]: sns.port, [AIA_HOST]: aia.port }) =>
  new CertificateStore(new Outbound({ testing: { ca: [root.pem], hosts } }), { anchors: [root.pem] });

function message(
  type: SnsMessage['Type'],
  fields: Partial<SnsMessage> = {},
  version = '2',
  key: KeyObject = signer.key,
): SnsMessage {
  const m = {
    Type: type,
    MessageId: randomUUID(),
    TopicArn: TOPIC,
    ...(type === 'Notification'
      ? { Subject: 'deploy', Message: '{"ref":"main","sha":"abc"}' }
      : {
          Message: `You have chosen to subscribe to the topic ${TOPIC}.`,
          SubscribeURL: `https://${SNS_HOST}/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=abc`,
          Token: 'abc',
        }),
    Timestamp: new Date().toISOString(),
    SignatureVersion: version,
    SigningCertURL: CERT_URL,
    Signature: '',
    ...fields,
  } as SnsMessage;
  if (!fields.Signature)
    m.Signature = cryptoSign(
      version === '1' ? 'sha1' : 'sha256',
      Buffer.from(canonicalString(m)),
      key,
    ).toString('base64');
  return m;
}

const run = (m: SnsMessage | string, s = store(), now = Date.now()) =>
  verifySns(Buffer.from(typeof m === 'string' ? m : JSON.stringify(m)), { store: s, topics: [TOPIC], now });

/** sns-validator, the reference, fetching its certificate from the loopback stand-in. */
function reference(m: SnsMessage): Promise<boolean> {
  const realGet = https.get;
  const spy = vi.spyOn(https, 'get').mockImplementation(((url: string, cb: never) =>
    realGet(
      {
        host: '127.0.0.1',
        port: sns.port,
        path: new URL(url).pathname,
        servername: SNS_HOST,
        ca: [root.pem],
      },
      cb,
    )) as never);
  return new Promise<boolean>((done) =>
    new MessageValidator().validate(JSON.stringify(m), (err: unknown) => done(!err)),
  ).finally(() => spy.mockRestore());
}

describe('AWS SNS (canonical strings cross-checked with sns-validator)', () => {
  it.each([
    ['Notification', '1'],
    ['Notification', '2'],
    ['SubscriptionConfirmation', '1'],
    ['SubscriptionConfirmation', '2'],
  ] as const)('accepts a %s, SignatureVersion %s, as sns-validator does', async (type, version) => {
    const m = message(type, {}, version);
    expect(await reference(m)).toBe(true);
    expect(await run(m)).toEqual({ ok: true, signed: m.MessageId, message: m });
  });

  it('accepts a Notification without a Subject (it is then not signed)', async () => {
    const m = message('Notification', { Subject: undefined });
    expect(await reference(m)).toBe(true);
    expect((await run(m)).ok).toBe(true);
  });

  it('accepts an UnsubscribeConfirmation, whose Token is signed as AWS documents', async () => {
    // sns-validator 0.3.5 signs UnsubscribeConfirmation without Token; AWS's documentation and its
    // PHP and Java validators include it, as SubscriptionConfirmation does.
    const m = message('UnsubscribeConfirmation');
    expect((await run(m)).ok).toBe(true);
  });

  it('refuses one flipped byte of a signed field', async () => {
    const m = message('Notification');
    const forged = { ...m, Message: m.Message.replace('main', 'maim') };
    expect(await reference(forged)).toBe(false);
    expect(await run(forged)).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('refuses a Subject added to a message signed without one', async () => {
    const m = message('Notification', { Subject: undefined });
    expect(await run({ ...m, Subject: 'injected' })).toEqual({ ok: false, reason: 'invalid_signature' });
  });

  it('refuses a topic not on the allow-list before fetching anything', async () => {
    const before = sns.requests.length;
    const m = message('Notification', { TopicArn: 'arn:aws:sns:us-east-1:999999999999:other' });
    expect(await run(m)).toEqual({ ok: false, reason: 'not_allowed' });
    expect(sns.requests.length).toBe(before);
  });

  it('refuses a stale Timestamp past the tolerance (an hour by default)', async () => {
    const m = message('Notification', { Timestamp: new Date(Date.now() - 3_601_000).toISOString() });
    expect(await run(m)).toEqual({ ok: false, reason: 'timestamp_out_of_tolerance' });
  });

  it.each([
    [
      'signed by a key that is not the certificate’s',
      () => message('Notification', {}, '2', aiaKey),
      'invalid_signature',
    ],
    ['a SignatureVersion other than 1 and 2', () => message('Notification', {}, '3'), 'malformed_signature'],
    [
      'a signature that is not base64',
      () => message('Notification', { Signature: 'not base64!' }),
      'malformed_signature',
    ],
    [
      'a certificate URL on another host',
      () => message('Notification', { SigningCertURL: 'https://evil.example/x.pem' }),
      'untrusted_certificate',
    ],
    [
      'a certificate URL over http',
      () => message('Notification', { SigningCertURL: `http://${SNS_HOST}${CERT_PATH}` }),
      'untrusted_certificate',
    ],
    [
      'a certificate for another name',
      () => message('Notification', { SigningCertURL: `https://${SNS_HOST}/other-name.pem` }),
      'untrusted_certificate',
    ],
    [
      'an expired certificate',
      () => message('Notification', { SigningCertURL: `https://${SNS_HOST}/expired.pem` }),
      'untrusted_certificate',
    ],
    [
      'a certificate of an untrusted CA',
      () => message('Notification', { SigningCertURL: `https://${SNS_HOST}/rogue.pem` }),
      'untrusted_certificate',
    ],
    [
      'a CA certificate as the signer',
      () => message('Notification', { SigningCertURL: `https://${SNS_HOST}/ca-as-leaf.pem` }),
      'untrusted_certificate',
    ],
    [
      'something that is not a certificate',
      () => message('Notification', { SigningCertURL: `https://${SNS_HOST}/garbage.pem` }),
      'untrusted_certificate',
    ],
  ] as const)('refuses %s', async (_name, make, reason) => {
    expect(await run(make())).toEqual({ ok: false, reason });
  });

  it('refuses what is not an SNS message', async () => {
    for (const body of [
      '[]',
      'null',
      '{"Type":"Notification"}',
      '{',
      JSON.stringify({ ...message('Notification'), Message: 7 }),
    ])
      expect(await run(body)).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it('completes a chain from the issuer named in the certificate (AIA), and caches the certificate', async () => {
    const s = store();
    const before = aia.requests.length;
    const m = message('Notification', { SigningCertURL: `https://${SNS_HOST}/aia.pem` }, '2', aiaKey);
    expect((await run(m, s)).ok).toBe(true);
    expect(aia.requests.length).toBe(before + 1);
    const fetched = sns.requests.length;
    await Promise.all([run(message('Notification'), s), run(message('Notification'), s)]);
    await run(message('Notification'), s);
    expect(sns.requests.length).toBe(fetched + 1);
  });

  it('a certificate missing an issuer and without AIA does not verify', async () => {
    const m = message('Notification', { SigningCertURL: `https://${SNS_HOST}/leaf-only.pem` });
    expect(await run(m)).toEqual({ ok: false, reason: 'untrusted_certificate' });
  });

  it('throws an OutboundError (503 for the sender) when the certificate host cannot be reached', async () => {
    const closed = store({ [SNS_HOST]: 1 });
    await expect(run(message('Notification'), closed)).rejects.toBeInstanceOf(OutboundError);
  });
});
