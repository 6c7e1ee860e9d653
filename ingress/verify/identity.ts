import type { KeyObject } from 'node:crypto';
import { type IdentityVerifier, KEY_ALGORITHM } from '../../api/v1alpha1/index.ts';
import { parsePublicKey } from '../../lib/public-key.ts';
import { Outbound, type OutboundTesting } from '../outbound/client.ts';
import { SNS_HOSTS, UrlRefused } from '../outbound/url.ts';
import { verifyDiscord, verifySendgrid, verifyStandardV1a } from './asymmetric.ts';
import { CertificateStore } from './certificates.ts';
import { fail, type VerifyRequest, type VerifyResult } from './common.ts';
import { JwksStore, verifyOidc } from './oidc.ts';
import { verifyPaypal } from './paypal.ts';
import { type SnsMessage, verifySns } from './sns.ts';

/**
 * What a verified delivery of a sender without a shared secret asks of the ingress besides a run:
 * `answer`, a reply in place of a run (Discord's PING, an SNS subscription handled); `sns`, the
 * subscription state to show in the trigger's status.
 */
export type IdentityVerdict = VerifyResult & {
  answer?: { status: number; body: unknown };
  sns?: { topic: string; state: 'Confirmed' | 'Unconfirmed' | 'Unsubscribed' };
};

export interface IdentitiesOptions {
  /** Test-only (see OutboundTesting): trust anchors and loopback hosts; never set in production. */
  testing?: OutboundTesting;
}

const MAX_PARSED_KEYS = 1024;

/**
 * The verifiers of identity senders, with what they share for the life of the ingress: the one
 * outbound client, the certificate store and the key sets (all bounded). Failures to fetch throw
 * (OutboundError, KeySetError): the stage answers 503 with Retry-After.
 */
export class Identities {
  readonly outbound: Outbound;
  private readonly certificates: CertificateStore;
  private readonly jwks: JwksStore;
  private readonly keys = new Map<string, KeyObject>();

  constructor(options: IdentitiesOptions = {}) {
    this.outbound = new Outbound(options.testing ? { testing: options.testing } : {});
    this.certificates = new CertificateStore(
      this.outbound,
      options.testing ? { anchors: options.testing.ca } : {},
    );
    this.jwks = new JwksStore(this.outbound);
  }

  private parsed(text: string, alg: 'ed25519' | 'ecdsa-p256'): KeyObject[] {
    let key = this.keys.get(`${alg}:${text}`);
    if (!key) {
      // The operator checked the keys; one that fails here (an older operator) verifies nothing.
      try {
        key = parsePublicKey(text, alg);
      } catch {
        return [];
      }
      if (this.keys.size >= MAX_PARSED_KEYS) this.keys.clear();
      this.keys.set(`${alg}:${text}`, key);
    }
    return [key];
  }

  async verify(v: IdentityVerifier, req: VerifyRequest, now: number): Promise<IdentityVerdict> {
    switch (v.type) {
      case 'public-key': {
        const keys = v.keys.flatMap((k) => this.parsed(k, KEY_ALGORITHM[v.format]));
        const check = { keys, req, now, toleranceSeconds: v.toleranceSeconds };
        if (v.format === 'sendgrid') return verifySendgrid(check);
        if (v.format === 'standard-webhooks-v1a') return verifyStandardV1a(check);
        const verdict = verifyDiscord(check);
        return verdict.ok && isDiscordPing(req.body)
          ? { ...verdict, answer: { status: 200, body: { type: 1 } } }
          : verdict;
      }
      case 'aws-sns': {
        const verdict = await verifySns(req.body, {
          store: this.certificates,
          topics: v.topics,
          toleranceSeconds: v.toleranceSeconds,
          now,
        });
        return verdict.ok && verdict.message ? this.snsControl(verdict, verdict.message, v.confirm) : verdict;
      }
      case 'paypal':
        return verifyPaypal(req, {
          store: this.certificates,
          webhookId: v.webhookId,
          toleranceSeconds: v.toleranceSeconds,
          now,
        });
      case 'oidc': {
        const { claims: _claims, ...verdict } = await verifyOidc(
          req,
          {
            issuer: v.issuer,
            audiences: v.audiences,
            ...(v.claims ? { claims: v.claims } : {}),
            ...(v.rules ? { rules: v.rules } : {}),
            ...(v.jwks ? { jwks: JSON.parse(v.jwks) } : {}),
            ...(v.jwksUri ? { jwksUri: v.jwksUri } : {}),
            ...(v.clockSkewSeconds !== undefined ? { clockSkewSeconds: v.clockSkewSeconds } : {}),
            ...(v.maxTokenSeconds !== undefined ? { maxTokenSeconds: v.maxTokenSeconds } : {}),
          },
          this.jwks,
          now,
        );
        return verdict;
      }
    }
  }

  /**
   * SNS's control messages never start a run. A SubscriptionConfirmation of an allowed topic is
   * confirmed by fetching its SubscribeURL (SNS's own host only); it is signed, so nobody else can
   * make the ingress call it. A SubscribeURL the host rule refuses is a refusal (401).
   */
  private async snsControl(verdict: VerifyResult, m: SnsMessage, confirm: boolean): Promise<IdentityVerdict> {
    if (m.Type === 'Notification') return verdict;
    if (m.Type === 'UnsubscribeConfirmation')
      return {
        ...verdict,
        answer: { status: 200, body: { unsubscribed: true } },
        sns: { topic: m.TopicArn, state: 'Unsubscribed' },
      };
    if (!confirm)
      return {
        ...verdict,
        answer: { status: 200, body: { confirmed: false } },
        sns: { topic: m.TopicArn, state: 'Unconfirmed' },
      };
    try {
      await this.outbound.get(m.SubscribeURL!, SNS_HOSTS);
    } catch (err) {
      if (err instanceof UrlRefused) return fail('untrusted_certificate');
      throw err;
    }
    return {
      ...verdict,
      answer: { status: 200, body: { confirmed: true } },
      sns: { topic: m.TopicArn, state: 'Confirmed' },
    };
  }
}

/** Discord's PING (interaction type 1): verified, answered `{"type":1}`, never a run. */
function isDiscordPing(body: Buffer): boolean {
  if (body.length > 4096) return false;
  try {
    const parsed = JSON.parse(body.toString('utf8'));
    return parsed?.type === 1;
  } catch {
    return false;
  }
}
