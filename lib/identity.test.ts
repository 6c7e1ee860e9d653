import { describe, expect, it } from 'vitest';
import { WebhookTriggerSpec } from '../api/v1alpha1/index.ts';
import { IdentityConfigError, identityVerifier } from './identity.ts';

const auth = (a: object) => WebhookTriggerSpec.parse({ workflowRef: { name: 'wf' }, auth: a }).auth;
const KEY = '88fd3bab7d8249f031bd7b2a3f8fc83adf7ab635b9fd0171dea62e3d6d70ca36';

describe('identityVerifier', () => {
  it('resolves presets into what the Route carries', () => {
    expect(
      identityVerifier(auth({ provider: 'discord', publicKeys: [{ value: KEY }] }), { publicKeys: [KEY] }),
    ).toEqual({
      type: 'public-key',
      format: 'discord',
      keys: [KEY],
      toleranceSeconds: 300,
    });
    const google = identityVerifier(
      auth({
        provider: 'google-pubsub',
        oidc: { audiences: ['a'], claims: [{ claim: 'email', value: 'x@y' }] },
      }),
      {},
    );
    expect(google).toMatchObject({
      type: 'oidc',
      issuer: 'https://accounts.google.com',
      jwksUri: 'https://www.googleapis.com/oauth2/v3/certs',
      rules: [{ expression: 'claims.email_verified == true' }],
    });
    expect(identityVerifier(auth({ bearer: {} }), {})).toBeUndefined();
  });

  it.each([
    [
      'a key that is not Ed25519',
      { provider: 'discord', publicKeys: [{ value: 'abcd' }] },
      { publicKeys: ['abcd'] },
      'auth.publicKeys[0]',
    ],
    [
      'a CEL rule that does not compile',
      {
        oidc: {
          issuer: 'https://i.example',
          audiences: ['a'],
          claimValidationRules: [{ expression: 'claims.a ==', message: 'm' }],
        },
      },
      {},
      'claim rule "m"',
    ],
    [
      'nested comprehensions',
      {
        oidc: {
          issuer: 'https://i.example',
          audiences: ['a'],
          claimValidationRules: [{ expression: 'claims.g.all(x, claims.g.exists(y, x == y))', message: 'm' }],
        },
      },
      {},
      'at most one comprehension',
    ],
    [
      'a pinned JWKS that is not one',
      { oidc: { issuer: 'https://i.example', audiences: ['a'] } },
      { jwks: '{"keys":[]}' },
      'JSON Web Key Set',
    ],
  ])('refuses %s with a message naming no value', (_name, a, values, message) => {
    let err: unknown;
    try {
      identityVerifier(auth(a), values);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IdentityConfigError);
    expect((err as Error).message).toContain(message);
    expect((err as Error).message).not.toContain('abcd');
  });
});
