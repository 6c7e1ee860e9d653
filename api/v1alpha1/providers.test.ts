import { describe, expect, it } from 'vitest';
import { extraCredentials } from './credentials.ts';
import { PROVIDER_NAMES, PROVIDERS, type Provider, providerNamed } from './providers.ts';
import { resolveAuth } from './resolve.ts';
import { TEMPLATE_PATTERN, templateParts, Verifier } from './verifier.ts';
import { WebhookTriggerSpec } from './webhooktrigger.ts';

// The rows are data: these are the invariants every row must keep, whoever adds one.

const rows = PROVIDERS as readonly Provider[];

// Issue 18's list: every one must exist.
const ISSUE_18 =
  `github gitea forgejo gitlab bitbucket bitbucket-server jira slack zoom twitch teams microsoft-graph
azure-event-grid cloudevents meta dropbox box okta asana trello stripe shopify square paddle twilio mailgun postmark
hubspot intercom typeform calendly linear zendesk svix standard-webhooks sentry pagerduty datadog alertmanager grafana
docker-hub quay harbor nexus argocd flux buildkite circleci terraform vercel telegram`.split(/\s+/);
// Issue 19's: senders that share no secret.
const ISSUE_19 =
  'discord standard-webhooks-v1a sendgrid aws-sns paypal google-pubsub github-actions-oidc entra'.split(' ');

describe('provider rows', () => {
  it("cover issue 18's and 19's lists, once each, with names fit for an enum", () => {
    expect([...PROVIDER_NAMES].sort()).toEqual([...ISSUE_18, ...ISSUE_19].sort());
    expect(new Set(PROVIDER_NAMES).size).toBe(PROVIDER_NAMES.length);
    for (const name of PROVIDER_NAMES) expect(name).toMatch(/^[a-z][a-z0-9-]{1,30}$/);
  });

  it.each(rows.map((p) => [p.name, p] as const))(
    '%s: a verifier the Route accepts, a signed timestamp, docs',
    (_, p) => {
      expect(p.docs).toMatch(/^https:\/\//);
      expect(p.setup.length).toBeGreaterThan(20);
      if (p.auth.type !== 'hmac' && p.auth.type !== 'secret') return;
      expect(Verifier.parse(p.auth)).toEqual(p.auth);
      if (p.auth.type !== 'hmac') return;
      const v = p.auth;
      expect(v.content).toMatch(new RegExp(TEMPLATE_PATTERN));
      // A timestamp protects against replays only if it is signed.
      if (v.timestamp) {
        const signedAs = 'field' in v.timestamp.source ? '{body}' : '{timestamp}';
        expect(v.content.includes(signedAs) || v.content.includes('{timestamp}')).toBe(true);
      } else expect(v.content).not.toContain('{timestamp}');
      if ('entry' in (v.timestamp?.source ?? {})) expect(v.list).toBeDefined();
      expect(v.content.includes('{id}')).toBe(v.id !== undefined);
      expect(v.prefix === undefined || v.list === undefined).toBe(true);
    },
  );

  it('sign the body or say so: a delivery id from a body field names a delivery only where the body is signed', () => {
    const unsigned = rows.filter((p) => p.auth.type === 'hmac' && !/\{(body|form)\}/.test(p.auth.content));
    expect(unsigned.map((p) => p.name)).toEqual(['mailgun']);
  });

  it('templates parse into their parts', () => {
    expect(templateParts('v0:{timestamp}:{body}')).toEqual([
      { literal: 'v0:' },
      { timestamp: true },
      { literal: ':' },
      { body: true },
    ]);
    expect(templateParts('{method}{url}{header:X-Id}{field:a.b}{form}{id}')).toEqual([
      { method: true },
      { url: true },
      { header: 'X-Id' },
      { field: 'a.b' },
      { form: true },
      { id: true },
    ]);
  });
});

describe('selecting a provider', () => {
  const spec = (auth: object) => WebhookTriggerSpec.safeParse({ workflowRef: { name: 'wf' }, auth });
  const REF = { name: 'hook', key: 'secret' };

  it('github alone is a complete trigger: the row gives the verifier, pings and delivery id', () => {
    const parsed = spec({ provider: 'github' });
    expect(parsed.success).toBe(true);
    expect(resolveAuth(parsed.data!.auth)).toEqual({
      bearer: false,
      verifier: providerNamed('github')!.auth,
      provider: {
        name: 'github',
        deliveryId: { header: 'X-GitHub-Delivery' },
        pings: [{ source: { header: 'X-GitHub-Event' }, values: ['ping'] }],
      },
    });
  });

  it('overrides only what the row leaves open: tolerance of timed rows, replay window of untimed ones', () => {
    const stripe = resolveAuth({ provider: 'stripe', signature: { secretRef: REF, toleranceSeconds: 60 } });
    expect(stripe.verifier).toMatchObject({ timestamp: { toleranceSeconds: 60 } });
    const github = resolveAuth({ provider: 'github', signature: { replayWindowSeconds: 86400 } });
    expect(github.verifier).toMatchObject({ replayWindowSeconds: 86400 });
  });

  it('a bearer row needs a token and no signing secret; a secret row the header', () => {
    expect(resolveAuth({ provider: 'alertmanager' })).toEqual({
      bearer: true,
      provider: { name: 'alertmanager' },
    });
    expect(resolveAuth({ provider: 'telegram' })).toMatchObject({
      bearer: false,
      verifier: { type: 'secret', header: 'X-Telegram-Bot-Api-Secret-Token' },
      secretFormat: 'url-safe',
    });
  });

  it.each([
    [{ provider: 'stripe' }, 'this provider issues its own signing secret'],
    [
      { provider: 'github', signature: { scheme: 'github' } },
      'auth.provider fixes how deliveries are signed',
    ],
    [{ provider: 'github', signature: { prefix: 'x' } }, 'auth.provider fixes how deliveries are signed'],
    [{ provider: 'github', signature: { toleranceSeconds: 60 } }, 'signs no timestamp'],
    [
      { provider: 'stripe', signature: { secretRef: REF, replayWindowSeconds: 60 } },
      'replayWindowSeconds applies only',
    ],
    [{ provider: 'alertmanager', signature: { secretRef: REF } }, 'has no signing secret'],
    [{ provider: 'discord' }, 'auth.publicKeys is required'],
    [{ provider: 'aws-sns' }, 'auth.sns is required'],
    [{ provider: 'nope' }, 'Invalid option'],
    [{ signature: { secretRef: REF } }, 'auth.signature needs a scheme, or auth.provider'],
  ])('refuses %j: %s', (auth, message) => {
    const parsed = spec(auth);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.message).toContain(message);
  });

  it('serves the credentials of senders that cannot sign: URL token, body secret, a captured secret', () => {
    for (const provider of ['docker-hub', 'quay', 'microsoft-graph', 'asana']) {
      expect(spec({ provider }).success, provider).toBe(true);
    }
    const asana = extraCredentials(
      WebhookTriggerSpec.parse({ workflowRef: { name: 'wf' }, auth: { provider: 'asana' } }),
    );
    expect(asana).toMatchObject({ captureSecret: true, handshakes: [{ name: 'asana-hook-secret' }] });
  });

  it('a generated secret is a key of the encoding the verifier reads', () => {
    expect(resolveAuth({ signature: { scheme: 'hmac', keyEncoding: 'hex' } }).secretFormat).toBe('hex');
    expect(resolveAuth({ signature: { scheme: 'hmac', keyEncoding: 'base64' } }).secretFormat).toBe('base64');
    expect(resolveAuth({ provider: 'github' }).secretFormat).toBeUndefined();
  });

  it('keeps the seven schemes as they were', () => {
    for (const scheme of [
      'hmac-sha256',
      'timestamped',
      'standard-webhooks',
      'github',
      'stripe',
      'slack',
      'shared-secret',
    ])
      expect(spec({ signature: { scheme } }).success).toBe(true);
  });
});
