import type { z } from 'zod';
import type { SecretKeyRef } from './common.ts';
import { type HandshakeName, providerNamed } from './providers.ts';
import type { Handshake, WebhookTriggerSpec } from './webhooktrigger.ts';

// What a trigger needs besides its bearer token and signature (resolve.ts): the credentials of
// senders that cannot sign, and the handshakes it answers, whether the trigger states them or its
// provider preset (or its scheme) implies them. The operator generates, references and publishes
// from this; nothing else decides it.

type Ref = z.infer<typeof SecretKeyRef>;

export interface ExtraCredentials {
  basic?: { secretRef?: { name: string } };
  urlToken?: { secretRef?: Ref };
  bodySecret?: { field: string; secretRef?: Ref };
  /** Every handshake answered, the trigger's own entry (with its settings) where it has one. */
  handshakes: Handshake[];
  /** The signing secret comes from a handshake (Asana's), not from a generator or a Secret. */
  captureSecret: boolean;
}

/** The handshakes a scheme's senders make (a slack trigger answers url_verification, as it always did). */
const SCHEME_HANDSHAKES: Partial<Record<string, HandshakeName[]>> = { slack: ['slack-url-verification'] };

export function extraCredentials(spec: WebhookTriggerSpec): ExtraCredentials {
  const { auth } = spec;
  const row = auth.provider ? providerNamed(auth.provider) : undefined;
  const type = row?.auth.type;
  const implied = [
    ...(row?.handshakes ?? []),
    ...((auth.signature?.scheme && SCHEME_HANDSHAKES[auth.signature.scheme]) || []),
  ];
  const own = spec.handshakes ?? [];
  const handshakes = [
    ...own,
    ...[...new Set(implied)].filter((n) => !own.some((h) => h.name === n)).map((name) => ({ name })),
  ];
  const bodyField = row?.auth.type === 'body-secret' ? row.auth.field : undefined;
  return {
    ...(auth.basic || type === 'basic' ? { basic: auth.basic ?? {} } : {}),
    ...(auth.urlToken || type === 'url-token' ? { urlToken: auth.urlToken ?? {} } : {}),
    ...(auth.bodySecret
      ? { bodySecret: auth.bodySecret }
      : bodyField !== undefined
        ? { bodySecret: { field: bodyField } }
        : {}),
    handshakes,
    captureSecret:
      handshakes.some((h) => h.name === 'asana-hook-secret') &&
      (row?.secret === 'handshake' || !!auth.signature) &&
      !auth.signature?.secretRef,
  };
}
