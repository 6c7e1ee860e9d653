import { BlockList, isIP } from 'node:net';

/**
 * Parses CIDRs ("10.0.0.0/8", "fd00::/8") or single addresses; throws on anything else. None gives
 * undefined: a BlockList lookup costs a few percent of a rejected request's CPU, for nothing.
 */
export function trustedProxies(cidrs: readonly string[]): BlockList | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of cidrs) {
    const [address = '', bits, ...rest] = entry.trim().split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (!family || rest.length > 0 || !/^\d{1,3}$/.test(bits ?? String(max)) || prefix > max) {
      throw new Error(`invalid trusted proxy "${entry}" (use an address or a CIDR such as 10.0.0.0/8)`);
    }
    list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

/** `::ffff:10.0.0.1` → `10.0.0.1`, so one client has one rate-limit key whatever the socket family. */
function normalize(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

const isTrusted = (list: BlockList, address: string) => {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
};

/**
 * The client's address: the socket's, unless the socket belongs to a trusted proxy; then walk
 * `X-Forwarded-For` from the right (each proxy appends the address it saw) and take the first
 * entry that is not itself a trusted proxy. Entries left of that one were written by the client
 * and are ignored, so a spoofed header from the internet changes nothing.
 */
export function clientIp(
  socketAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: BlockList | undefined,
): string {
  let ip = normalize(socketAddress ?? '');
  if (!trusted || forwardedFor === undefined || !isTrusted(trusted, ip)) return ip;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalize(hops[i]!.trim());
    // A trusted proxy never writes garbage; if one did, keep the last address we can vouch for.
    if (isIP(hop) === 0) return ip;
    ip = hop;
    if (!isTrusted(trusted, ip)) return ip;
  }
  return ip;
}

/**
 * The key the limiters count a client address under: an IPv4 address as is, an IPv6 address by
 * its /64 (one subscriber's share: rotating addresses inside it does not get around a limit).
 */
export function limitKey(address: string): string {
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.split('%', 1)[0]!.split('::');
  const groups = head ? head.split(':') : [];
  if (tail !== undefined && groups.length < 4) {
    const rest = tail ? tail.split(':') : [];
    // An embedded IPv4 address (the last 32 bits) counts as two groups.
    const width = rest.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
    for (let i = groups.length + width; i < 8; i++) groups.push('0');
    groups.push(...rest);
  }
  let key = '';
  for (let i = 0; i < 4; i++) key += `${(Number.parseInt(groups[i] ?? '0', 16) || 0).toString(16)}:`;
  return `${key}:/64`;
}
