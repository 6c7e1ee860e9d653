import { isIP } from 'node:net';

/**
 * Which hosts a sender's data may make the ingress call, per provider. A rule names DNS hosts
 * only (never an address), and a URL must be `https` on the default port with no userinfo, so the
 * URL a sender writes can only ever reach the provider's own service.
 */
export interface HostRule {
  /** For messages: "the SNS certificate host rule". */
  name: string;
  host: RegExp;
  /** Optional: the path must match too (PayPal's certificates live under one path). */
  path?: RegExp;
  /**
   * Only for issuer certificates named by a certificate's AIA: CAs serve those over plain http,
   * and they prove themselves by signature, so the transport adds nothing. Default https only.
   */
  plainHttp?: boolean;
}

export const SNS_HOSTS: HostRule = {
  name: 'AWS SNS',
  host: /^sns\.[a-z0-9-]{1,32}\.amazonaws\.com(?:\.cn)?$/,
};

export const PAYPAL_CERT_HOSTS: HostRule = {
  name: 'PayPal certificate',
  host: /^api(?:-m)?(?:\.sandbox)?\.paypal\.com$/,
  path: /^\/v1\/notifications\/certs\/[A-Za-z0-9-]{1,128}$/,
};

/** Where the CAs of those certificates publish their intermediates (AIA caIssuers). */
export const SNS_ISSUERS: HostRule = {
  name: 'Amazon CA issuer',
  host: /^crt\.[a-z0-9-]{1,32}\.amazontrust\.com$/,
  plainHttp: true,
};
export const DIGICERT_ISSUERS: HostRule = {
  name: 'DigiCert CA issuer',
  host: /^cacerts\.digicert\.com$/,
  plainHttp: true,
};

/** An OIDC issuer's own host: its discovery document and the JWKS it names live there. */
export function issuerHosts(issuer: string): HostRule {
  const host = new URL(issuer).hostname;
  return { name: `the issuer ${host}`, host: new RegExp(`^${host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) };
}

const MAX_URL = 2048;

export class UrlRefused extends Error {}

/**
 * The URL if `text` is one `rule` allows; throws UrlRefused (a message naming the rule, never
 * the URL: it is sender text) otherwise. The WHATWG parser has already normalised decimal, octal
 * and hex IPv4 forms to dotted ones, lower-cased the host and turned IDN into punycode, so what is
 * checked is what would be connected to.
 */
export function allowedUrl(text: string, rule: HostRule): URL {
  const refuse = (why: string) => new UrlRefused(`${rule.name} URL refused: ${why}`);
  if (typeof text !== 'string' || text.length > MAX_URL) throw refuse('missing or too long');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse('not a URL');
  }
  if (url.protocol !== 'https:' && !(rule.plainHttp && url.protocol === 'http:')) throw refuse('not https');
  if (url.username !== '' || url.password !== '') throw refuse('userinfo');
  if (url.port !== '') throw refuse('not the default port');
  const host = url.hostname;
  if (isIP(host.replace(/^\[|\]$/g, '')) !== 0) throw refuse('an address, not a host name');
  if (host.endsWith('.')) throw refuse('a trailing dot');
  if (!rule.host.test(host)) throw refuse('not a host the rule allows');
  if (rule.path && (!rule.path.test(url.pathname) || url.search !== ''))
    throw refuse('not a path the rule allows');
  url.hash = '';
  return url;
}
