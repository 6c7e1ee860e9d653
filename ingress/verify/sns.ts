import { verify as cryptoVerify } from 'node:crypto';
import { strictBase64 } from '../../lib/public-key.ts';
import { SNS_HOSTS, SNS_ISSUERS } from '../outbound/url.ts';
import type { CertificatePolicy, CertificateStore } from './certificates.ts';
import { fail, type VerifyResult } from './common.ts';
import { parseTimestamp } from './decode.ts';
import { certificateRefusal } from './signing-cert.ts';

/**
 * AWS SNS HTTP/S subscriptions: the signature is in the JSON body, made with the key of the X.509
 * certificate at `SigningCertURL` over a canonical string of named fields (SignatureVersion 1:
 * SHA1withRSA, 2: SHA256withRSA). https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
 */
export const SNS_TYPES = ['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'] as const;
export type SnsType = (typeof SNS_TYPES)[number];

export interface SnsMessage {
  Type: SnsType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
  UnsubscribeURL?: string;
}

export const SNS_CERTIFICATES: CertificatePolicy = {
  hosts: SNS_HOSTS,
  issuers: SNS_ISSUERS,
  identity: /^sns(?:\.[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$/,
};

/** SNS retries a delivery with its original signature and Timestamp for up to an hour by default. */
export const SNS_DEFAULT_TOLERANCE_SECONDS = 3600;

const REQUIRED = [
  'MessageId',
  'TopicArn',
  'Message',
  'Timestamp',
  'SignatureVersion',
  'Signature',
  'SigningCertURL',
] as const;
const OPTIONAL = ['Subject', 'SubscribeURL', 'Token', 'UnsubscribeURL'] as const;

/** The message, if `body` is one: a JSON object whose named fields are all strings. */
export function parseSnsMessage(body: Buffer): SnsMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const m = value as Record<string, unknown>;
  if (!SNS_TYPES.includes(m.Type as SnsType)) return undefined;
  if (!REQUIRED.every((k) => typeof m[k] === 'string')) return undefined;
  if (!OPTIONAL.every((k) => m[k] === undefined || typeof m[k] === 'string')) return undefined;
  if (m.Type !== 'Notification' && (typeof m.SubscribeURL !== 'string' || typeof m.Token !== 'string'))
    return undefined;
  return m as unknown as SnsMessage;
}

/** The string SNS signs: `Key\nValue\n` for each field of the message's type, in this order. */
export function canonicalString(m: SnsMessage): string {
  const keys =
    m.Type === 'Notification'
      ? [
          'Message',
          'MessageId',
          ...(m.Subject !== undefined ? ['Subject'] : []),
          'Timestamp',
          'TopicArn',
          'Type',
        ]
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return keys.map((k) => `${k}\n${m[k as keyof SnsMessage]}\n`).join('');
}

const ALGORITHMS: Record<string, string> = { '1': 'sha1', '2': 'sha256' };

export interface SnsCheck {
  store: CertificateStore;
  topics: string[];
  toleranceSeconds?: number;
  now: number;
}

/**
 * The verdict on an SNS delivery, the message with it when verified (its type decides what the
 * ingress does: only a Notification starts a run). The topic is checked before anything is
 * fetched, so a message for another topic costs no outbound call. Throws OutboundError when the
 * certificate cannot be fetched (the caller answers 503).
 */
export async function verifySns(
  body: Buffer,
  check: SnsCheck,
): Promise<VerifyResult & { message?: SnsMessage }> {
  const m = parseSnsMessage(body);
  if (!m) return fail('missing_signature');
  const algorithm = ALGORITHMS[m.SignatureVersion];
  const signature = strictBase64(m.Signature);
  const timestamp = parseTimestamp(m.Timestamp, 'rfc3339');
  if (!algorithm || !signature || timestamp === undefined) return fail('malformed_signature');
  if (!check.topics.includes(m.TopicArn)) return fail('not_allowed');
  const key = await check.store
    .signingKey(m.SigningCertURL, SNS_CERTIFICATES, check.now)
    .catch(certificateRefusal);
  if (!key) return fail('untrusted_certificate');
  if (!cryptoVerify(algorithm, Buffer.from(canonicalString(m), 'utf8'), key, signature))
    return fail('invalid_signature');
  const tolerance = check.toleranceSeconds ?? SNS_DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(check.now - timestamp) > tolerance * 1000) return fail('timestamp_out_of_tolerance');
  // MessageId is signed and kept across SNS's own retries.
  return { ok: true, signed: m.MessageId, message: m };
}
