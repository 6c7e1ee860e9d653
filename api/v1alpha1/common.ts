import { z } from 'zod';

// Metadata keys the CRD generator turns into OpenAPI extensions.
export const preserveUnknown = { 'x-kubernetes-preserve-unknown-fields': true } as const;
export const cel = (...rules: { rule: string; message: string; messageExpression?: string }[]) => ({
  'x-kubernetes-validations': rules,
});

/** A cross-field rule: CEL for the API server, the same check in TypeScript for the components. */
export interface Rule<T> {
  rule: string;
  message: string;
  /** CEL building the API server's message from the object (`message` stays zod's, and the fallback). */
  messageExpression?: string;
  check: (value: T) => boolean;
}
/**
 * Puts the rules into the CRD (x-kubernetes-validations) and into zod, so a spec the API server
 * would reject (or an older server without CEL let through) also fails `safeParse` in code.
 */
export function withRules<S extends z.ZodType>(schema: S, ...rules: Rule<z.output<S>>[]): S {
  const checked = rules.reduce((s, { check, message }) => s.refine(check, message), schema);
  return checked.meta(
    cel(
      ...rules.map(({ rule, message, messageExpression }) => ({
        rule,
        message,
        ...(messageExpression ? { messageExpression } : {}),
      })),
    ),
  );
}

export const Name = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS subdomain');
export const HeaderName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name');

/**
 * A map keyed by HTTP header names, with at most `max` keys in zod and in the CRD. The CRD checks
 * the keys with a CEL rule (OpenAPI has no propertyNames); unbounded, that rule alone would cost 70%
 * of its budget.
 */
export const HeaderMap = <V extends z.ZodType>(value: V, max = 64) =>
  z
    .record(HeaderName, value)
    .refine((m) => Object.keys(m).length <= max, `at most ${max} headers`)
    .meta({ maxProperties: max });

/** A free-form JSON object (kept as is by the API server). */
export const JsonObject = z.record(z.string(), z.unknown()).meta(preserveUnknown);

export const SecretKeyRef = z
  .object({
    name: Name.describe('Name of a Secret in the same namespace.'),
    key: z.string().min(1).max(253).describe('Key in the Secret.'),
  })
  .strict();

/**
 * A key of a ConfigMap in the same namespace (public material, e.g. a public key). Like a
 * `secretRef`, a property holding one is named `configMapRef` (see references.ts).
 */
export const ConfigMapKeyRef = z
  .object({
    name: Name.describe('Name of a ConfigMap in the same namespace.'),
    key: z.string().min(1).max(253).describe('Key in the ConfigMap.'),
  })
  .strict();

export const ConditionSchema = z
  .object({
    type: z.string().min(1).max(316).describe('Ready, Reconciling or Stalled (the kstatus conditions).'),
    status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .describe('Why, in one CamelCase word (docs/troubleshooting.md lists them).'),
    message: z.string().max(32768).describe('Why, for a person.'),
    lastTransitionTime: z.string().describe('When status last changed (RFC 3339).'),
    observedGeneration: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('The metadata.generation the condition was computed from.'),
  })
  .strict();

/**
 * The status an object is served with before the operator has written one (the API server applies
 * a CRD's defaults when it reads an object, and drops the status of a create): observedGeneration
 * -1 never equals metadata.generation, so kstatus (Flux, `kubectl wait`-style tools) and Argo CD
 * see a new object as in progress instead of current. Flux's own CRDs do the same.
 */
export const UNOBSERVED = { observedGeneration: -1 };

/** At most `max` items, each known by its `key`: server-side apply merges them (a list-type map). */
export const mapList = <T extends z.ZodType>(item: T, key: string, max: number) =>
  z
    .array(item)
    .max(max)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': [key] });

export const Conditions = mapList(ConditionSchema, 'type', 16).describe(
  'Ready (True: serving, or done), Reconciling (True: in progress) and Stalled (True: only a change of the ' +
    'spec or of what it references fixes it).',
);

/** A kind's status: observedGeneration and conditions, then the kind's own `fields`; UNOBSERVED until written. */
export const statusSchema = <F extends z.ZodRawShape>(fields: F, description: string) =>
  z
    .object({
      observedGeneration: z
        .number()
        .int()
        .default(-1)
        .describe('The metadata.generation this status describes; -1 until the operator has seen it.'),
      conditions: Conditions.optional(),
      ...fields,
    })
    .strict()
    // A kind's own fields are all optional (none is known before the first write), which TypeScript
    // cannot see through the generic F.
    .default(UNOBSERVED as never)
    .describe(description);

export const ObjectMeta = z
  .object({
    name: z.string().optional(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
    generation: z.number().optional(),
    resourceVersion: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
  })
  .passthrough();

/** A hookgate.io/v1alpha1 object of `kind`: apiVersion, kind, metadata and its `fields` (spec, status). */
export const objectSchema = <K extends string, F extends z.ZodRawShape>(kind: K, fields: F) =>
  z.object({
    apiVersion: z.literal('hookgate.io/v1alpha1'),
    kind: z.literal(kind),
    metadata: ObjectMeta,
    ...fields,
  });
