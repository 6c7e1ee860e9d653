import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPublicAddress } from './address.ts';
import { BoundedCache } from './cache.ts';
import { Outbound, OutboundError } from './client.ts';
import { serveHttps, TestCa, type TestServer } from './tls.test-helper.ts';
import { allowedUrl, issuerHosts, PAYPAL_CERT_HOSTS, SNS_HOSTS, UrlRefused } from './url.ts';

describe('isPublicAddress', () => {
  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '10.0.0.1',
    '10.96.0.1', // a cluster's Service range
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254', // cloud metadata
    '100.64.0.1',
    '100.100.100.200', // Alibaba metadata (CGNAT)
    '0.0.0.0',
    '255.255.255.255',
    '224.0.0.1',
    '198.18.0.1',
    '::',
    '::1',
    'fe80::1',
    'fd00:ec2::254', // AWS metadata over IPv6
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '::127.0.0.1',
    '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
    '2002:0a00:0001::1', // 6to4 of 10.0.0.1
    '2001:db8::1',
    'ff02::1',
    'not an address',
    '',
  ])('refuses %s', (address) => expect(isPublicAddress(address)).toBe(false));

  it.each([
    '52.94.236.248',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2600:1f18::1',
    '::ffff:52.94.236.248',
    '2002:345e:ecf8::1',
  ])('allows %s', (address) => expect(isPublicAddress(address)).toBe(true));
});

describe('host rules', () => {
  it.each([
    'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem',
    'https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem',
    'https://SNS.US-EAST-1.AMAZONAWS.COM/x.pem',
    'https://sns.us-east-1.amazonaws.com:443/x.pem',
  ])('SNS allows %s', (url) => expect(allowedUrl(url, SNS_HOSTS).hostname).toMatch(/^sns\./));

  it.each([
    ['http', 'http://sns.us-east-1.amazonaws.com/x.pem'],
    ['another host', 'https://evil.example/x.pem'],
    ['a suffix', 'https://sns.us-east-1.amazonaws.com.evil.example/x.pem'],
    ['a prefix', 'https://evilsns.us-east-1.amazonaws.com/x.pem'],
    ['the host in the path', 'https://evil.example/sns.us-east-1.amazonaws.com/x.pem'],
    ['userinfo', 'https://sns.us-east-1.amazonaws.com@evil.example/x.pem'],
    ['userinfo on the right host', 'https://user:pw@sns.us-east-1.amazonaws.com/x.pem'],
    ['a fragment trick', 'https://evil.example#@sns.us-east-1.amazonaws.com/x.pem'],
    ['a backslash trick', 'https://evil.example\\@sns.us-east-1.amazonaws.com/x.pem'],
    ['an IPv4 literal', 'https://127.0.0.1/x.pem'],
    ['a decimal IP', 'https://2130706433/x.pem'],
    ['an octal IP', 'https://017700000001/x.pem'],
    ['a hex IP', 'https://0x7f.1/x.pem'],
    ['an IPv6 literal', 'https://[::1]/x.pem'],
    ['a mapped IPv6 literal', 'https://[::ffff:169.254.169.254]/x.pem'],
    ['another port', 'https://sns.us-east-1.amazonaws.com:8443/x.pem'],
    ['a trailing dot', 'https://sns.us-east-1.amazonaws.com./x.pem'],
    ['a homoglyph (IDN)', 'https://sns.us-east-1.аmazonaws.com/x.pem'],
    ['not a URL', 'sns.us-east-1.amazonaws.com/x.pem'],
    ['a huge URL', `https://sns.us-east-1.amazonaws.com/${'a'.repeat(3000)}`],
    ['a file URL', 'file:///etc/passwd'],
  ])('SNS refuses %s, without echoing the URL', (_name, url) => {
    let err: unknown;
    try {
      allowedUrl(url, SNS_HOSTS);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UrlRefused);
    expect((err as Error).message).not.toContain('evil');
  });

  it('PayPal allows its certificate URLs only', () => {
    for (const host of [
      'api.paypal.com',
      'api-m.paypal.com',
      'api.sandbox.paypal.com',
      'api-m.sandbox.paypal.com',
    ])
      expect(() =>
        allowedUrl(
          `https://${host}/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77`,
          PAYPAL_CERT_HOSTS,
        ),
      ).not.toThrow();
    for (const url of [
      'https://api.paypal.com/v1/oauth2/token',
      'https://api.paypal.com/v1/notifications/certs/../../oauth2/token',
      'https://www.paypal.com/v1/notifications/certs/CERT-1',
      'https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1',
      'https://api.paypal.com/v1/notifications/certs/CERT-1?x=1/',
    ])
      expect(() => allowedUrl(url, PAYPAL_CERT_HOSTS), url).toThrow(UrlRefused);
  });

  it('an issuer rule allows exactly its host', () => {
    const rule = issuerHosts('https://token.actions.githubusercontent.com');
    expect(() =>
      allowedUrl('https://token.actions.githubusercontent.com/.well-known/jwks', rule),
    ).not.toThrow();
    expect(() => allowedUrl('https://tokenXactions.githubusercontent.com/', rule)).toThrow(UrlRefused);
    expect(() => allowedUrl('https://token.actions.githubusercontent.com.evil.example/', rule)).toThrow(
      UrlRefused,
    );
  });
});

describe('Outbound (loopback https with a test CA)', () => {
  const HOST = 'sns.us-east-1.amazonaws.com';
  let ca: TestCa;
  let other: TestCa;
  let server: TestServer;
  let rogue: TestServer;
  const client = (opts: ConstructorParameters<typeof Outbound>[0] = {}) =>
    new Outbound({ testing: { ca: [ca.pem], hosts: { [HOST]: server.port } }, ...opts });
  const kind = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (err) => (err instanceof OutboundError ? err.kind : `other: ${err}`),
    );

  beforeAll(async () => {
    ca = await TestCa.create();
    other = await TestCa.create('someone else');
    server = await serveHttps(ca, [HOST], (req, res) => {
      if (req.url === '/cert.pem') res.end('-----BEGIN CERTIFICATE-----\n');
      else if (req.url === '/redirect') res.writeHead(302, { location: 'https://127.0.0.1/' }).end();
      else if (req.url === '/huge') res.writeHead(200, { 'content-length': 10_000_000 }).end();
      else if (req.url === '/chunked-huge') {
        const send = (n: number) =>
          n === 0 ? res.end() : res.write(Buffer.alloc(16 * 1024), () => send(n - 1));
        send(100);
      } else if (req.url === '/slow') setTimeout(() => res.end('late'), 3_000).unref();
      else res.writeHead(404).end();
    });
    rogue = await serveHttps(other, [HOST], (_req, res) => res.end('forged'));
  });
  afterAll(async () => {
    await server?.close();
    await rogue?.close();
  });

  it('fetches from a host the rule allows', async () => {
    const body = await client().get(`https://${HOST}/cert.pem`, SNS_HOSTS);
    expect(body.toString()).toContain('BEGIN CERTIFICATE');
  });
  it('refuses a server whose certificate the trust anchors do not vouch for', async () => {
    const c = new Outbound({ testing: { ca: [ca.pem], hosts: { [HOST]: rogue.port } } });
    expect(await kind(c.get(`https://${HOST}/cert.pem`, SNS_HOSTS))).toBe('unreachable');
  });
  it('follows no redirect', async () => {
    const before = server.requests.length;
    expect(await kind(client().get(`https://${HOST}/redirect`, SNS_HOSTS))).toBe('bad_status');
    expect(server.requests.length).toBe(before + 1);
  });
  it('caps the answer by Content-Length and while it streams', async () => {
    expect(await kind(client().get(`https://${HOST}/huge`, SNS_HOSTS))).toBe('too_large');
    expect(await kind(client().get(`https://${HOST}/chunked-huge`, SNS_HOSTS))).toBe('too_large');
  });
  it('gives up at its deadline', async () => {
    const started = Date.now();
    expect(await kind(client({ timeoutMs: 300 }).get(`https://${HOST}/slow`, SNS_HOSTS))).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(2_500);
  });
  it('refuses more calls than its concurrency bound at once', async () => {
    const c = client({ maxConcurrent: 1, timeoutMs: 1_000 });
    const first = kind(c.get(`https://${HOST}/slow`, SNS_HOSTS));
    expect(await kind(c.get(`https://${HOST}/cert.pem`, SNS_HOSTS))).toBe('busy');
    expect(await first).toBe('timeout');
    expect(await kind(c.get(`https://${HOST}/cert.pem`, SNS_HOSTS))).toBe('ok');
  });
  it('refuses a URL before any call', async () => {
    await expect(client().get(`http://${HOST}/cert.pem`, SNS_HOSTS)).rejects.toBeInstanceOf(UrlRefused);
  });
  it('reports a closed port as unreachable', async () => {
    const c = new Outbound({ testing: { ca: [ca.pem], hosts: { [HOST]: 1 } } });
    expect(await kind(c.get(`https://${HOST}/cert.pem`, SNS_HOSTS))).toBe('unreachable');
  });

  it.each([
    [['127.0.0.1']],
    [['10.0.0.7']],
    [['169.254.169.254']],
    [['52.94.236.248', '10.0.0.7']], // one private answer among public ones
    [['::ffff:10.0.0.7']],
    [[]],
  ])('resolves once and refuses a name that resolves to %j', async (addresses) => {
    let lookups = 0;
    const c = new Outbound({
      resolve: async () => {
        lookups++;
        return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
      },
    });
    expect(await kind(c.get(`https://${HOST}/cert.pem`, SNS_HOSTS))).toBe('blocked_address');
    expect(lookups).toBe(1);
  });
  it('reports a name that does not resolve as unreachable', async () => {
    const c = new Outbound({
      resolve: async () => {
        throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
      },
    });
    expect(await kind(c.get(`https://${HOST}/cert.pem`, SNS_HOSTS))).toBe('unreachable');
  });
});

describe('BoundedCache', () => {
  let now = 0;
  const cache = (maxEntries = 3, maxBytes = 100) =>
    new BoundedCache<string>({ maxEntries, maxBytes, ttlMs: 1000, size: (v) => v.length, clock: () => now });

  it('evicts the least recently used past its entry bound', () => {
    const c = cache();
    c.set('a', '1');
    c.set('b', '2');
    c.set('c', '3');
    c.get('a');
    c.set('d', '4');
    expect([c.get('a'), c.get('b'), c.get('c'), c.get('d')]).toEqual(['1', undefined, '3', '4']);
  });
  it('evicts past its byte bound and never keeps a value larger than the bound', () => {
    const c = cache(10, 10);
    c.set('a', 'x'.repeat(6));
    c.set('b', 'y'.repeat(6));
    expect([c.get('a'), c.get('b'), c.totalBytes]).toEqual([undefined, 'yyyyyy', 6]);
    c.set('c', 'z'.repeat(11));
    expect([c.get('c'), c.totalBytes]).toEqual([undefined, 6]);
  });
  it('forgets entries after their TTL', () => {
    const c = cache();
    now = 0;
    c.set('a', '1');
    now = 999;
    expect(c.get('a')).toBe('1');
    now = 1000;
    expect([c.get('a'), c.size, c.totalBytes]).toEqual([undefined, 0, 0]);
  });
  it('shares one load among concurrent misses and keeps no failure', async () => {
    const c = cache();
    let loads = 0;
    const load = () => new Promise<string>((done) => setTimeout(() => done(String(++loads)), 10));
    expect(await Promise.all([c.getOrLoad('k', load), c.getOrLoad('k', load)])).toEqual(['1', '1']);
    await expect(c.getOrLoad('f', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await c.getOrLoad('f', load)).toBe('2');
  });
});
