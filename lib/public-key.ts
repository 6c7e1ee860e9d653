import { createPublicKey, verify as cryptoVerify, ECDH, type KeyObject } from 'node:crypto';

/**
 * Public keys a trigger pins, in the forms providers hand them out: Discord's hex (32 raw bytes),
 * Standard Webhooks' `whpk_<base64>`, SendGrid's base64 SPKI DER, and PEM (`BEGIN PUBLIC KEY`) or
 * hex/base64 of SPKI DER for anything else. Decoding is strict: text that is not exactly one of
 * these is refused, never half-read (Buffer.from skips what it cannot decode).
 */
export type KeyAlgorithm = 'ed25519' | 'ecdsa-p256';

export class KeyFormatError extends Error {}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const PEM = /^-----BEGIN PUBLIC KEY-----\s+([A-Za-z0-9+/=\s]+?)\s*-----END PUBLIC KEY-----$/;
const WHPK = 'whpk_';

// DER prefixes of SubjectPublicKeyInfo for a raw key: Ed25519 (RFC 8410) and P-256 uncompressed points.
const ED25519_SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const P256_SPKI = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

function decodeText(text: string): Buffer {
  const t = text.trim();
  const pem = PEM.exec(t);
  if (pem) {
    const body = pem[1]!.replace(/\s+/g, '');
    if (BASE64.test(body)) return Buffer.from(body, 'base64');
    throw new KeyFormatError('the PEM block is not valid base64');
  }
  if (t.startsWith(WHPK)) {
    const body = t.slice(WHPK.length);
    if (BASE64.test(body)) return Buffer.from(body, 'base64');
    throw new KeyFormatError('the whpk_ key is not valid base64');
  }
  // Hex first: a 64-character hex key is also valid base64, and Discord's keys are hex.
  if (HEX.test(t)) return Buffer.from(t, 'hex');
  if (t.length > 0 && BASE64.test(t)) return Buffer.from(t, 'base64');
  throw new KeyFormatError('not hex, base64, whpk_ or a PEM public key');
}

function fromSpki(der: Buffer, alg: KeyAlgorithm): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    throw new KeyFormatError('not a public key (SubjectPublicKeyInfo)');
  }
  const ok =
    alg === 'ed25519'
      ? key.asymmetricKeyType === 'ed25519'
      : key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  if (!ok) throw new KeyFormatError(`the key is not an ${alg === 'ed25519' ? 'Ed25519' : 'ECDSA P-256'} key`);
  return key;
}

/** The key named by `text`, for `alg`; throws KeyFormatError (a message without the key) otherwise. */
export function parsePublicKey(text: string, alg: KeyAlgorithm): KeyObject {
  const bytes = decodeText(text);
  if (alg === 'ed25519' && bytes.length === 32) return fromSpki(Buffer.concat([ED25519_SPKI, bytes]), alg);
  if (alg === 'ecdsa-p256' && (bytes.length === 65 || bytes.length === 33)) {
    let point: Buffer;
    try {
      point =
        bytes.length === 65
          ? bytes
          : (ECDH.convertKey(bytes, 'prime256v1', undefined, undefined, 'uncompressed') as Buffer);
    } catch {
      throw new KeyFormatError('not a point on P-256');
    }
    return fromSpki(Buffer.concat([P256_SPKI, point]), alg);
  }
  return fromSpki(bytes, alg);
}

const ED25519_SIGNATURE = 64;
// A DER ECDSA P-256 signature: SEQUENCE of two INTEGERs of at most 33 bytes each.
const MAX_ECDSA_DER = 72;

/** True when any key verifies `signature` over `message` (Ed25519: 64 raw bytes). */
export function ed25519SignedByAny(keys: KeyObject[], message: Buffer, signature: Buffer): boolean {
  if (signature.length !== ED25519_SIGNATURE) return false;
  return keys.some((key) => cryptoVerify(null, message, key, signature));
}

/** True when any key verifies the DER ECDSA `signature` over SHA-256 of `message`. */
export function ecdsaSignedByAny(keys: KeyObject[], message: Buffer, signature: Buffer): boolean {
  if (signature.length < 8 || signature.length > MAX_ECDSA_DER) return false;
  return keys.some((key) => {
    try {
      return cryptoVerify('sha256', message, { key, dsaEncoding: 'der' }, signature);
    } catch {
      return false; // malformed DER
    }
  });
}

/** Strict decoders for signatures as sent: undefined for anything else. */
export function strictHex(text: string): Buffer | undefined {
  return HEX.test(text) ? Buffer.from(text, 'hex') : undefined;
}
export function strictBase64(text: string): Buffer | undefined {
  return text.length > 0 && BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}
