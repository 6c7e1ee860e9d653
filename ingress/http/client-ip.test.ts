import { describe, expect, it } from 'vitest';
import { clientIp, limitKey, trustedProxies } from './client-ip.ts';

describe('clientIp', () => {
  const proxies = trustedProxies(['10.0.0.0/8', '192.168.1.1', 'fd00::/8']);

  it.each([
    // [socket, X-Forwarded-For, expected]
    ['203.0.113.7', undefined, '203.0.113.7'],
    ['203.0.113.7', '1.1.1.1', '203.0.113.7'], // untrusted socket: the header is ignored
    ['203.0.113.7', '10.0.0.1', '203.0.113.7'],
    ['::ffff:203.0.113.7', undefined, '203.0.113.7'], // IPv4-mapped socket address
    ['10.1.2.3', '198.51.100.9', '198.51.100.9'], // one trusted proxy
    ['10.1.2.3', '6.6.6.6, 198.51.100.9', '198.51.100.9'], // client-written entry on the left is ignored
    ['10.1.2.3', '6.6.6.6, 198.51.100.9, 192.168.1.1', '198.51.100.9'], // two trusted hops
    ['10.1.2.3', ['6.6.6.6', '198.51.100.9'], '198.51.100.9'], // repeated header
    ['10.1.2.3', '10.9.9.9', '10.9.9.9'], // every hop trusted: the left-most
    ['10.1.2.3', 'garbage', '10.1.2.3'], // a hop that is no address: keep the last one vouched for
    ['10.1.2.3', '198.51.100.9, garbage', '10.1.2.3'],
    ['10.1.2.3', '', '10.1.2.3'],
    ['fd00::1', '2001:db8::5', '2001:db8::5'],
    ['::ffff:10.1.2.3', '198.51.100.9', '198.51.100.9'], // mapped socket of a trusted proxy
  ] as const)('socket %s, X-Forwarded-For %j → %s', (socket, xff, expected) => {
    expect(clientIp(socket, xff as string | string[] | undefined, proxies)).toBe(expected);
  });

  it('believes no header when no proxy is trusted', () => {
    expect(clientIp('10.1.2.3', '198.51.100.9', trustedProxies([]))).toBe('10.1.2.3');
  });

  it.each(['10.0.0.0/33', 'nonsense', '10.0.0.0/8/1', '::/129', '10.0.0.0/x', ''])('refuses %j', (cidr) => {
    expect(() => trustedProxies([cidr])).toThrow(/invalid trusted proxy/);
  });
});

describe('limitKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002:0:0:0:9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:db8:0:0:abcd::3', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['2001:db8:1:3::1', '2001:db8:1:3::/64'],
  ])('%s → %s', (address, key) => {
    expect(limitKey(address)).toBe(key);
  });
});
