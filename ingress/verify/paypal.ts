import { verify as cryptoVerify } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { DEFAULT_TOLERANCE_SECONDS } from '../../api/v1alpha1/index.ts';
import { strictBase64 } from '../../lib/public-key.ts';
import { DIGICERT_ISSUERS, PAYPAL_CERT_HOSTS } from '../outbound/url.ts';
import type { CertificatePolicy, CertificateStore } from './certificates.ts';
import { fail, header, type VerifyRequest, type VerifyResult } from './common.ts';
import { parseTimestamp } from './decode.ts';
import { certificateRefusal } from './signing-cert.ts';

/**
 * PayPal: SHA256withRSA over `<transmission id>|<transmission time>|<webhook id>|<crc32(body)>`
 * with the key of the certificate at PAYPAL-CERT-URL. The body enters the signature only through
 * its CRC32, which is not a cryptographic hash: whoever holds one signed delivery's headers can
 * make another body with the same CRC32. So the delivery's identity is the signed transmission
 * id (a forged body under a captured id is a duplicate of the real delivery), and the README says
 * what that leaves open.
 */
export const PAYPAL_CERTIFICATES: CertificatePolicy = {
  hosts: PAYPAL_CERT_HOSTS,
  issuers: DIGICERT_ISSUERS,
  identity: /^messageverificationcerts(?:\.sandbox)?\.paypal\.com$/,
};

const ID = /^[A-Za-z0-9-]{1,64}$/;

export interface PaypalCheck {
  store: CertificateStore;
  /** The webhook's id in PayPal's dashboard: signed, so deliveries for another webhook fail. */
  webhookId: string;
  toleranceSeconds?: number;
  now: number;
}

export async function verifyPaypal(req: VerifyRequest, check: PaypalCheck): Promise<VerifyResult> {
  const id = header(req, 'paypal-transmission-id');
  const time = header(req, 'paypal-transmission-time');
  const sig = header(req, 'paypal-transmission-sig');
  const url = header(req, 'paypal-cert-url');
  const algo = header(req, 'paypal-auth-algo');
  if (!id || !time || !sig || !url) return fail('missing_signature');
  const signature = strictBase64(sig);
  // RFC 3339 only: Date.parse also takes HTTP dates, bare years and zone-less (local) times.
  const timestamp = parseTimestamp(time, 'rfc3339');
  if (
    !ID.test(id) ||
    !signature ||
    timestamp === undefined ||
    (algo !== undefined && algo !== 'SHA256withRSA')
  )
    return fail('malformed_signature');
  const key = await check.store.signingKey(url, PAYPAL_CERTIFICATES, check.now).catch(certificateRefusal);
  if (!key) return fail('untrusted_certificate');
  const message = `${id}|${time}|${check.webhookId}|${crc32(req.body) >>> 0}`;
  if (!cryptoVerify('sha256', Buffer.from(message), key, signature)) return fail('invalid_signature');
  const tolerance = check.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(check.now - timestamp) > tolerance * 1000) return fail('timestamp_out_of_tolerance');
  return { ok: true, signed: `paypal:${id}` };
}
