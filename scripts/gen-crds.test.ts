import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { preserveUnknown, WebhookTriggerSpec } from '../api/v1alpha1/index.ts';
import { CHART_CRD_DIR, CRD_DIR, crds, drift, render, toStructural } from './gen-crds.ts';

type Node = Record<string, unknown>;

// What apiextensions.k8s.io/v1 calls a structural schema, plus what kubectl and the API server
// need from ours: every problem found, with its path, so a failure says where.
function structuralProblems(node: Node, path: string): string[] {
  const problems: string[] = [];
  const say = (what: string) => problems.push(`${path}: ${what}`);
  if (!node.type && node['x-kubernetes-preserve-unknown-fields'] !== true) say('no type');
  if (node.properties && node.additionalProperties !== undefined)
    say('properties beside additionalProperties');
  if (typeof node.additionalProperties === 'boolean') say('boolean additionalProperties');
  for (const k of ['$schema', 'propertyNames', 'anyOf', 'oneOf', 'allOf', 'not', '$ref', 'const']) {
    if (k in node) say(`has ${k}`);
  }
  if (node.type === 'integer' && !['int32', 'int64'].includes(node.format as string))
    say('integer without format');
  if (node['x-kubernetes-list-type'] === 'map') {
    const item = node.items as Node;
    for (const key of node['x-kubernetes-list-map-keys'] as string[]) {
      if (!(item.required as string[] | undefined)?.includes(key)) say(`list map key ${key} not required`);
    }
  }
  for (const [k, v] of Object.entries((node.properties ?? {}) as Record<string, Node>)) {
    problems.push(...structuralProblems(v, `${path}.${k}`));
  }
  if (node.items) problems.push(...structuralProblems(node.items as Node, `${path}[]`));
  if (typeof node.additionalProperties === 'object') {
    problems.push(...structuralProblems(node.additionalProperties as Node, `${path}{}`));
  }
  return problems;
}

const byKind = (kind: string) => crds().find((c) => c.spec.names.kind === kind)!;
const schemaOf = (kind: string) => byKind(kind).spec.versions[0]!.schema.openAPIV3Schema;

/** Fields `kubectl explain` would show without a word: every path below `$` without a description. */
function undescribed(node: Node, path: string): string[] {
  const fields = Object.entries((node.properties ?? {}) as Record<string, Node>).filter(
    ([k]) => !(path === '$' && ['apiVersion', 'kind', 'metadata'].includes(k)),
  );
  return [
    ...fields.flatMap(([k, v]) => [
      ...(v.description ? [] : [`${path}.${k}`]),
      ...undescribed(v, `${path}.${k}`),
    ]),
    ...(node.items ? undescribed(node.items as Node, `${path}[]`) : []),
    ...(typeof node.additionalProperties === 'object'
      ? undescribed(node.additionalProperties as Node, `${path}{}`)
      : []),
  ];
}

describe.each(['Workflow', 'WebhookTrigger', 'WorkflowListing'])('%s CRD: kubectl explain', (kind) => {
  it('describes every field', () => {
    expect(undescribed(schemaOf(kind), '$')).toEqual([]);
  });
});

describe.each(['Workflow', 'WebhookTrigger'])('%s CRD', (kind) => {
  const c = byKind(kind);
  const version = c.spec.versions[0]!;

  it('is a namespaced hookgate.io/v1alpha1 CRD with the status subresource', () => {
    expect(c.metadata.name).toBe(`${c.spec.names.plural}.hookgate.io`);
    expect(c.spec.scope).toBe('Namespaced');
    expect(c.spec.versions).toHaveLength(1);
    expect(version).toMatchObject({
      name: 'v1alpha1',
      served: true,
      storage: true,
      subresources: { status: {} },
    });
  });

  it('has a structural schema', () => {
    expect(structuralProblems(version.schema.openAPIV3Schema, kind)).toEqual([]);
  });

  it('is in the hookgate category, with short names of its own (kubectl get wf is Argo)', () => {
    expect(c.spec.names.categories).toEqual(['hookgate']);
    expect(c.spec.names.shortNames.length).toBeGreaterThan(0);
    for (const s of c.spec.names.shortNames) expect(s).toMatch(/^hg[a-z]+$/);
  });

  it('ends its printer columns with Age', () => {
    expect(version.additionalPrinterColumns.at(-1)).toEqual({
      name: 'Age',
      type: 'date',
      jsonPath: '.metadata.creationTimestamp',
    });
  });
});

describe('CRD content', () => {
  it('has the columns people look for', () => {
    const names = (kind: string) =>
      byKind(kind).spec.versions[0]!.additionalPrinterColumns.map((c) => c.name);
    expect(names('Workflow')).toEqual(['Ready', 'Policy', 'Last Run', 'Age']);
    expect(names('WebhookTrigger')).toEqual(['Workflow', 'Ready', 'Reason', 'URL', 'Last Triggered', 'Age']);
    expect(byKind('Workflow').spec.names.shortNames).toEqual(['hgwf']);
    expect(byKind('WebhookTrigger').spec.names.shortNames).toEqual(['hgt', 'hgtrigger']);
  });

  it('carries the metadata extensions, defaults, descriptions and integer formats of the zod schemas', () => {
    const spec = (schemaOf('WebhookTrigger').properties.spec as Node).properties as Record<string, Node>;
    const auth = spec.auth!;
    expect((auth['x-kubernetes-validations'] as unknown[]).slice(0, 2)).toEqual([
      {
        rule: 'has(self.bearer) || has(self.basic) || has(self.urlToken) || has(self.bodySecret) || has(self.signature) || has(self.provider) || has(self.oidc)',
        message:
          'auth needs at least one of bearer, basic, urlToken, bodySecret, signature or oidc, or a provider',
      },
      {
        rule: '!(has(self.bearer) && has(self.basic))',
        message: 'bearer and basic both use the Authorization header: set one of them',
      },
    ]);
    const signature = (auth.properties as Record<string, Node>).signature!;
    expect(signature['x-kubernetes-validations']).toHaveLength(11);
    expect(spec.rateLimit).toMatchObject({
      default: {},
      properties: { requests: { type: 'integer', format: 'int32', default: 30, minimum: 1 } },
    });
    expect(spec.suspend).toMatchObject({ description: expect.stringContaining('403') });
    const input = (spec.input!.properties as Record<string, Node>).defaults;
    expect(input).toEqual({
      description: 'Values merged under the payload.',
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
    });
    const status = (schemaOf('Workflow').properties.status as Node).properties as Record<string, Node>;
    expect(status.observedGeneration).toMatchObject({ type: 'integer', format: 'int64', default: -1 });
    expect(status.conditions).toMatchObject({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    });
  });
});

// Every x-kubernetes-validations rule in the CRDs, so one added without a zod check fails here.
function celMessages(node: Node): string[] {
  const own = ((node['x-kubernetes-validations'] ?? []) as { message: string }[]).map((r) => r.message);
  const children = [
    ...Object.values((node.properties ?? {}) as Record<string, Node>),
    ...(node.items ? [node.items as Node] : []),
    ...(typeof node.additionalProperties === 'object' ? [node.additionalProperties as Node] : []),
  ];
  return [...own, ...children.flatMap(celMessages)];
}

describe('CEL rules', () => {
  const spec = (auth: Node, more: Node = {}) => ({ workflowRef: { name: 'wf' }, auth, ...more });
  const REF = { name: 's', key: 'k' };
  const violations: Record<string, Node> = {
    'auth needs at least one of bearer, basic, urlToken, bodySecret, signature or oidc, or a provider': spec(
      {},
    ),
    'bearer and basic both use the Authorization header: set one of them': spec({ bearer: {}, basic: {} }),
    'verifyToken applies only to the meta-verify-token handshake': spec(
      { bearer: {} },
      { handshakes: [{ name: 'dropbox-challenge', verifyToken: {} }] },
    ),
    'the cloudevents-options handshake needs allowedOrigins': spec(
      { bearer: {} },
      { handshakes: [{ name: 'cloudevents-options' }] },
    ),
    'allowedOrigins and allowedRate apply only to the cloudevents-options handshake': spec(
      { bearer: {} },
      { handshakes: [{ name: 'dropbox-challenge', allowedRate: 5 }] },
    ),
    'the slack-url-verification, zoom-url-validation, twitch-callback-verification handshakes are signed: set auth.signature or auth.provider':
      spec({ bearer: {} }, { handshakes: [{ name: 'zoom-url-validation' }] }),
    'the asana-hook-secret handshake captures the signing secret: set auth.signature (or auth.provider) without secretRef':
      spec(
        { signature: { scheme: 'hmac-sha256', secretRef: { name: 'asana', key: 'secret' } } },
        { handshakes: [{ name: 'asana-hook-secret' }] },
      ),
    'auth.publicKeys is required with, and only with, provider discord or standard-webhooks-v1a or sendgrid (the keys its deliveries are signed with)':
      spec({ provider: 'discord' }),
    'auth.sns is required with, and only with, provider aws-sns (the topics it may deliver)': spec({
      provider: 'aws-sns',
    }),
    'auth.paypal is required with, and only with, provider paypal (the webhook id it signs)': spec({
      provider: 'paypal',
    }),
    'set value or secretRef': spec({ provider: 'discord', publicKeys: [{}] }),
    'this provider sends OIDC tokens: set auth.oidc (audiences, and the claims that name your sender)': spec({
      provider: 'github-actions-oidc',
    }),
    'auth.oidc goes alone or with provider google-pubsub, github-actions-oidc or entra': spec({
      provider: 'github',
      oidc: { issuer: 'https://issuer.example', audiences: ['a'] },
    }),
    'auth.oidc and auth.bearer both use the Authorization header: set one': spec({
      bearer: {},
      oidc: { issuer: 'https://issuer.example', audiences: ['a'] },
    }),
    'auth.oidc.issuer is required, except with a provider that fixes it (google-pubsub, github-actions-oidc), which it may not change':
      spec({ oidc: { audiences: ['a'] } }),
    'provider google-pubsub: auth.oidc.claims must name email (any token of the issuer would do otherwise)':
      spec({
        provider: 'google-pubsub',
        oidc: { audiences: ['a'] },
      }),
    'provider github-actions-oidc: auth.oidc.claims must name repository (any token of the issuer would do otherwise)':
      spec({ provider: 'github-actions-oidc', oidc: { audiences: ['a'] } }),
    'provider entra: auth.oidc.claims must name tid (any token of the issuer would do otherwise)': spec({
      provider: 'entra',
      oidc: { issuer: 'https://login.microsoftonline.com/t/v2.0', audiences: ['a'] },
    }),
    'prefix and encoding apply only to the hmac-sha256 scheme and the generic hmac scheme': spec({
      signature: { scheme: 'github', prefix: 'x' },
    }),
    'timestampUnit applies only to the timestamped scheme': spec({
      signature: { scheme: 'stripe', timestampUnit: 'seconds' },
    }),
    'header is fixed by the github, stripe, slack and standard-webhooks schemes': spec({
      signature: { scheme: 'slack', header: 'X-Sig' },
    }),
    'toleranceSeconds applies only to timestamped schemes': spec({
      signature: { scheme: 'github', toleranceSeconds: 5 },
    }),
    'replayWindowSeconds applies only to the github and hmac-sha256 schemes, and hmac without a timestamp (others use toleranceSeconds)':
      spec({ signature: { scheme: 'stripe', replayWindowSeconds: 60 } }),
    'algorithm, keyEncoding, signatureList, signedContent and timestamp apply only to the hmac scheme': spec({
      signature: { scheme: 'github', algorithm: 'sha1' },
    }),
    'set prefix or signatureList, not both: list entries carry their own key': spec({
      signature: { scheme: 'hmac', prefix: 'x', signatureList: { separator: ',', assign: '=', key: 'v1' } },
    }),
    'the timestamp must be signed: put {timestamp} in signedContent (a timestamp field must be in a signed {body})':
      spec({ signature: { scheme: 'hmac', timestamp: { header: 'X-T' } } }),
    'signedContent has {timestamp}: set timestamp (header, field or listKey)': spec({
      signature: { scheme: 'hmac', signedContent: '{timestamp}.{body}' },
    }),
    'signedContent: name the delivery id header as {header:Name}': spec({
      signature: { scheme: 'hmac', signedContent: '{id}.{body}' },
    }),
    'timestamp.listKey needs signatureList': spec({
      signature: { scheme: 'hmac', signedContent: '{timestamp}.{body}', timestamp: { listKey: 't' } },
    }),
    'timestamp: set exactly one of header, field or listKey': spec({
      signature: {
        scheme: 'hmac',
        signedContent: '{timestamp}{body}',
        timestamp: { header: 'X-T', field: 't' },
      },
    }),
    'auth.signature needs a scheme, or auth.provider': spec({ signature: { secretRef: REF } }),
    'auth.provider fixes how deliveries are signed: under auth.signature set only secretRef, toleranceSeconds or replayWindowSeconds':
      spec({ provider: 'github', signature: { header: 'X-A' } }),
    'this provider issues its own signing secret: set auth.signature.secretRef to the Secret key holding it':
      spec({
        provider: 'stripe',
      }),
    'this provider signs no timestamp: toleranceSeconds does not apply': spec({
      provider: 'github',
      signature: { toleranceSeconds: 5 },
    }),
    'replayWindowSeconds applies only to providers that sign without a timestamp': spec({
      provider: 'stripe',
      signature: { secretRef: REF, replayWindowSeconds: 60 },
    }),
    'this provider has no signing secret: remove auth.signature': spec({
      provider: 'alertmanager',
      signature: { secretRef: REF },
    }),
    'response.body applies only to async mode': spec(
      { bearer: {} },
      { response: { mode: 'wait', body: { type: 5 } } },
    ),
    'set header or field, not both': spec({ bearer: {} }, { idempotency: { header: 'X-Id', field: 'id' } }),
    // From z.record(HeaderName, ...): zod says it in its own words.
    "each key must match ^[A-Za-z0-9!#$%&'*+.^_`|~-]+$ and have at least 1 and at most 128 characters": spec(
      { bearer: {} },
      { response: { headers: { 'X Run': 'yes' } } },
    ),
    'may not set Content-Type, Set-Cookie, Strict-Transport-Security, Content-Security-Policy, Clear-Site-Data, Access-Control-*, Cross-Origin-* or headers that frame HTTP':
      spec({ bearer: {} }, { response: { headers: { 'set-COOKIE': 'a=b' } } }),
    'includeOutput applies only to mode wait': spec({ bearer: {} }, { response: { includeOutput: true } }),
  };

  it.each(crds().map((c) => [c.spec.names.kind, c] as const))('of %s are checked by zod too', (_, c) => {
    for (const message of celMessages(c.spec.versions[0]!.schema.openAPIV3Schema)) {
      expect(violations, `a spec that breaks "${message}"`).toHaveProperty([message]);
      const issues = WebhookTriggerSpec.safeParse(violations[message]).error?.issues ?? [];
      expect(issues).toHaveLength(1);
      if (issues[0]!.code === 'custom') expect(issues[0]!.message).toBe(message);
    }
  });
});

describe('toStructural', () => {
  const convert = (s: z.ZodType) => toStructural(z.toJSONSchema(s, { io: 'input' }) as Node);

  it('keeps maps and drops what the API server rejects', () => {
    expect(convert(z.object({ m: z.record(z.string(), z.number().int().max(5)) }).strict())).toEqual({
      type: 'object',
      properties: {
        m: { type: 'object', additionalProperties: { type: 'integer', format: 'int64', maximum: 5 } },
      },
      required: ['m'],
    });
  });

  it('checks map keys in CEL, as OpenAPI has no propertyNames', () => {
    const keys = z
      .string()
      .max(8)
      .regex(/^[a-z']+$/);
    expect(() => convert(z.record(keys, z.string()))).toThrow('map keys checked in CEL need maxProperties');
    expect(convert(z.record(keys, z.string()).meta({ maxProperties: 4 }))).toEqual({
      type: 'object',
      maxProperties: 4,
      additionalProperties: { type: 'string' },
      'x-kubernetes-validations': [
        {
          rule: `self.all(k, k.size() <= 8 && k.matches("^[a-z']+$"))`,
          message: "each key must match ^[a-z']+$ and have at most 8 characters",
        },
      ],
    });
  });

  it('writes exclusive bounds and nullable the OpenAPI v3.0 way', () => {
    expect(convert(z.number().positive())).toEqual({ type: 'number', minimum: 0, exclusiveMinimum: true });
    expect(convert(z.string().nullable())).toEqual({ type: 'string', nullable: true });
  });

  it('refuses what a structural schema cannot say', () => {
    const either = z.union([z.object({ x: z.string() }), z.object({ y: z.string() })]);
    expect(() => convert(z.object({ a: either }))).toThrow('$.a: JSON Schema keyword "anyOf"');
    expect(() => convert(z.object({ a: z.union([z.string(), z.number()]) }))).toThrow(
      '$.a: type string | number',
    );
    expect(() => convert(z.object({ a: z.object({}).passthrough() }))).toThrow(
      '$.a: a passthrough object needs',
    );
    expect(() => convert(z.object({ a: z.literal('x') }))).toThrow('keyword "const"');
    expect(convert(z.object({}).passthrough().meta(preserveUnknown))).toEqual({
      type: 'object',
      properties: {},
      'x-kubernetes-preserve-unknown-fields': true,
    });
  });
});

describe('generated files', () => {
  it('are checked in as generated (npm run gen)', async () => {
    expect(await drift()).toEqual([]);
  });

  it('report a hand edit, a missing file and a stray one', async () => {
    const files = render();
    const [path, content] = [...files][0]!;
    const edited = new Map(files).set(path, content.replace('hgwf', 'wf'));
    edited.set(`${CRD_DIR}/extra.yaml`, '');
    edited.delete(`${CHART_CRD_DIR}/hookgate.io_workflows.yaml`);
    const problems = await drift(edited);
    expect(problems).toEqual([
      expect.stringMatching(new RegExp(`^${path}:\\d+: is " {6}- hgwf", generator says " {6}- wf"$`)),
      `${CRD_DIR}/extra.yaml: missing`,
      `${CHART_CRD_DIR}/hookgate.io_workflows.yaml: not generated`,
    ]);
  });

  it('put the same CRD in the chart, behind crds.enabled and with crds.keep', () => {
    const files = render();
    for (const c of crds()) {
      const file = `hookgate.io_${c.spec.names.plural}.yaml`;
      const chart = files.get(`${CHART_CRD_DIR}/${file}`)!;
      expect(chart.startsWith('{{- if .Values.crds.enabled }}\n')).toBe(true);
      expect(chart.endsWith('{{- end }}\n')).toBe(true);
      // With both switches on, Helm renders the plain CRD plus the keep annotation.
      const rendered = parse(chart.replace(/^ *\{\{-.*\}\}\n/gm, ''));
      const plain = parse(files.get(`${CRD_DIR}/${file}`)!);
      plain.metadata.annotations = { 'helm.sh/resource-policy': 'keep' };
      expect(rendered).toEqual(plain);
      expect(plain).toEqual({ ...c, metadata: { ...c.metadata, annotations: plain.metadata.annotations } });
    }
  });
});
