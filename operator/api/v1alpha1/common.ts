import { z } from 'zod';

// Metadata keys the CRD generator turns into OpenAPI extensions.
export const preserveUnknown = { 'x-kubernetes-preserve-unknown-fields': true } as const;
export const cel = (...rules: { rule: string; message: string }[]) => ({ 'x-kubernetes-validations': rules });

export const Name = z.string().min(1).max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS subdomain');
export const HeaderName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name');

/** A free-form JSON object (kept as is by the API server). */
export const JsonObject = z.record(z.string(), z.unknown()).meta(preserveUnknown);

export const SecretKeyRef = z
  .object({
    name: Name.describe('Name of a Secret in the same namespace.'),
    key: z.string().min(1).max(253).describe('Key in the Secret.'),
  })
  .strict();

export const ConditionSchema = z
  .object({
    type: z.string().min(1).max(316),
    status: z.enum(['True', 'False', 'Unknown']),
    reason: z.string().min(1).max(1024),
    message: z.string().max(32768),
    lastTransitionTime: z.string(),
    observedGeneration: z.number().int().min(0).optional(),
  })
  .strict();

export const Conditions = z
  .array(ConditionSchema)
  .max(16)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });

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
