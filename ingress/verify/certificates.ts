import { type KeyObject, X509Certificate } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { BoundedCache } from '../outbound/cache.ts';
import type { Outbound } from '../outbound/client.ts';
import { type HostRule, UrlRefused } from '../outbound/url.ts';

/**
 * Signing certificates fetched from a URL a sender names (AWS SNS `SigningCertURL`, PayPal's
 * `PAYPAL-CERT-URL`): fetched only under the provider's host rule, and trusted only when the
 * chain reaches a root of the trust store (node's bundled Mozilla roots, or the test harness's own
 * CA), every certificate is within its validity dates, every issuer is a CA, and the leaf names
 * the provider (so a certificate for some other name under the same roots is useless).
 */
export class CertificateRefused extends Error {}

export interface CertificatePolicy {
  /** Where the certificate may be fetched from. */
  hosts: HostRule;
  /** Where the CA's intermediates may be fetched from when the PEM does not carry them (AIA). */
  issuers: HostRule;
  /** A DNS name of the leaf (subjectAltName, or CN without one) must match. */
  identity: RegExp;
}

const MAX_PEM_BYTES = 32 * 1024;
const MAX_DEPTH = 4;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

function parse(text: Buffer): X509Certificate[] {
  const blocks = text.toString('latin1').match(PEM_BLOCK) ?? [];
  try {
    return blocks.length > 0 ? blocks.map((b) => new X509Certificate(b)) : [new X509Certificate(text)];
  } catch {
    throw new CertificateRefused('not a certificate');
  }
}

function current(cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo);
}

function names(cert: X509Certificate): string[] {
  const san = (cert.subjectAltName ?? '')
    .split(', ')
    .flatMap((entry) => (entry.startsWith('DNS:') ? [entry.slice(4).toLowerCase()] : []));
  if (san.length > 0) return san;
  const cn = /^CN=(.*)$/m.exec(cert.subject);
  return cn ? [cn[1]!.toLowerCase()] : [];
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return issuer.ca && cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function caIssuerUrls(cert: X509Certificate): string[] {
  return (cert.infoAccess ?? '')
    .split('\n')
    .flatMap((line) =>
      line.startsWith('CA Issuers - URI:') ? [line.slice('CA Issuers - URI:'.length)] : [],
    );
}

export interface CertificateStoreOptions {
  /** PEM trust anchors; default node's bundled roots. Tests pass their own CA. */
  anchors?: string[];
  maxEntries?: number;
  ttlMs?: number;
}

export class CertificateStore {
  private anchorList?: X509Certificate[];
  private readonly leaves: BoundedCache<X509Certificate>;
  private readonly intermediates: BoundedCache<X509Certificate>;

  constructor(
    private readonly outbound: Outbound,
    private readonly options: CertificateStoreOptions = {},
  ) {
    const size = (c: X509Certificate) => c.raw.length;
    const bounds = {
      maxEntries: options.maxEntries ?? 64,
      maxBytes: 512 * 1024,
      size,
      ttlMs: options.ttlMs ?? 3_600_000,
    };
    this.leaves = new BoundedCache(bounds);
    this.intermediates = new BoundedCache(bounds);
  }

  /** Parsed on first use: most ingresses never verify a certificate, and parsing ~140 roots takes a moment. */
  private get anchors(): X509Certificate[] {
    this.anchorList ??= (this.options.anchors ?? rootCertificates).map((pem) => new X509Certificate(pem));
    return this.anchorList;
  }

  /**
   * The public key of the verified leaf at `url`. Throws UrlRefused (the URL breaks the rule),
   * OutboundError (the fetch failed: the caller answers 503) or CertificateRefused.
   */
  async signingKey(url: string, policy: CertificatePolicy, now: number): Promise<KeyObject> {
    const leaf = await this.leaves.getOrLoad(url, async () => {
      const certs = parse(await this.outbound.get(url, policy.hosts, MAX_PEM_BYTES));
      await this.verifyChain(certs, policy, now);
      return certs[0]!;
    });
    // Cached leaves are re-judged by date: one that expired since is not used.
    if (!current(leaf, now)) {
      this.leaves.delete(url);
      throw new CertificateRefused('the signing certificate is not within its validity dates');
    }
    return leaf.publicKey;
  }

  private async verifyChain(certs: X509Certificate[], policy: CertificatePolicy, now: number): Promise<void> {
    const leaf = certs[0]!;
    if (leaf.ca) throw new CertificateRefused('the signing certificate is a CA certificate');
    if (!names(leaf).some((name) => policy.identity.test(name)))
      throw new CertificateRefused('the signing certificate does not name the provider');
    let cert = leaf;
    for (let depth = 0; depth <= MAX_DEPTH; depth++) {
      if (!current(cert, now))
        throw new CertificateRefused('a certificate of the chain is not within its validity dates');
      if (
        this.anchors.some((anchor) => anchor.fingerprint256 === cert.fingerprint256 || issuedBy(cert, anchor))
      )
        return;
      const issuer =
        certs.find((c) => c !== cert && issuedBy(cert, c)) ?? (await this.fetchIssuer(cert, policy));
      if (!issuer) throw new CertificateRefused('the chain does not reach a trusted root');
      cert = issuer;
    }
    throw new CertificateRefused('the chain is too long');
  }

  /** The issuer named by the certificate's AIA, from the CA's own host; it proves itself by signature. */
  private async fetchIssuer(
    cert: X509Certificate,
    policy: CertificatePolicy,
  ): Promise<X509Certificate | undefined> {
    for (const url of caIssuerUrls(cert).slice(0, 2)) {
      const issuer = await this.intermediates
        .getOrLoad(url, async () => parse(await this.outbound.get(url, policy.issuers, MAX_PEM_BYTES))[0]!)
        .catch((err) => {
          if (err instanceof UrlRefused || err instanceof CertificateRefused) return undefined;
          throw err;
        });
      if (issuer && issuedBy(cert, issuer)) return issuer;
    }
    return undefined;
  }
}
