// Where a WebhookTrigger's spec names a Secret or a ConfigMap the operator reads for it. Found by
// walking the schema, so a reference added anywhere is covered without a list to keep: every
// property named `secretRef` names a Secret, every `configMapRef` a ConfigMap. The chart's
// trigger-authors admission policy checks, from the CEL this module renders, that whoever writes a
// trigger may `get` each of them (scripts/gen-crds.ts writes it into the chart).
import type { z } from 'zod';
import { ConfigMapKeyRef, SecretKeyRef } from './common.ts';
import { WebhookTriggerSpec } from './webhooktrigger.ts';

export type ReferenceKind = 'Secret' | 'ConfigMap';

/** One step from the spec down to a reference: a property, and whether to go into each of its items. */
export interface Step {
  field: string;
  /** The property is a list (or a map) of objects: the rest of the path applies to each item (value). */
  each?: 'list' | 'map';
}

export interface ReferencePath {
  kind: ReferenceKind;
  steps: Step[];
}

const BY_FIELD: Record<string, ReferenceKind> = { secretRef: 'Secret', configMapRef: 'ConfigMap' };

type Def = {
  type: string;
  innerType?: z.ZodType;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  shape?: Record<string, z.ZodType>;
  in?: z.ZodType;
  getter?: () => z.ZodType;
};
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The schema under optional/default/nullable wrappers (and a pipe's input). */
function unwrap(schema: z.ZodType): z.ZodType {
  const d = defOf(schema);
  if (d.innerType) return unwrap(d.innerType);
  if (d.type === 'pipe' && d.in) return unwrap(d.in);
  if (d.type === 'lazy' && d.getter) return unwrap(d.getter());
  return schema;
}

const isRef = (s: z.ZodType) => {
  const d = defOf(s);
  const shape = (r: z.ZodType) => defOf(r).shape;
  return d.shape === shape(SecretKeyRef) || d.shape === shape(ConfigMapKeyRef);
};

/** Every reference under `schema`, each path once. Throws on a schema it cannot follow. */
export function referencePaths(schema: z.ZodType, steps: Step[] = [], where = 'spec'): ReferencePath[] {
  const node = unwrap(schema);
  const d = defOf(node);
  switch (d.type) {
    case 'object':
      return Object.entries(d.shape ?? {}).flatMap(([field, child]) => {
        const kind = BY_FIELD[field];
        if (kind) return [{ kind, steps: [...steps, { field }] }];
        const inner = defOf(unwrap(child));
        const item = inner.element ?? inner.valueType;
        if (isRef(unwrap(child)) || (item && isRef(unwrap(item))))
          throw new Error(
            `${where}.${field}: a Secret or ConfigMap reference is a property named secretRef or configMapRef (in a list: a list of objects holding one)`,
          );
        return collection(child, [...steps, { field }], `${where}.${field}`);
      });
    case 'union': {
      const seen = new Map<string, ReferencePath>();
      for (const option of d.options ?? [])
        for (const p of referencePaths(option, steps, where)) seen.set(JSON.stringify(p), p);
      return [...seen.values()];
    }
    case 'lazy':
    case 'pipe':
      throw new Error(`${where}: cannot follow a ${d.type} schema`);
    default:
      return [];
  }
}

/** A property's value: an object, or a list or map whose items are followed. */
function collection(schema: z.ZodType, steps: Step[], where: string): ReferencePath[] {
  const d = defOf(unwrap(schema));
  const last = steps.at(-1)!;
  if (d.type === 'array' && d.element)
    return referencePaths(d.element, [...steps.slice(0, -1), { ...last, each: 'list' }], `${where}[]`);
  if (d.type === 'record' && d.valueType)
    return referencePaths(d.valueType, [...steps.slice(0, -1), { ...last, each: 'map' }], `${where}{}`);
  return referencePaths(schema, steps, where);
}

export const TRIGGER_REFERENCES: readonly ReferencePath[] = referencePaths(WebhookTriggerSpec);

/**
 * A CEL expression over an admission request's `object` that lists the names every path of `kind`
 * holds: `[?a.?b.?secretRef.?name]` for a plain path; for one through a list or map, a `map` over
 * its items, flattened.
 */
export function celNames(paths: readonly ReferencePath[], kind: ReferenceKind): string {
  const lists = paths.filter((p) => p.kind === kind).map((p) => names('object.spec', p.steps, 0));
  return lists.length ? lists.join(' + ') : '[]';
}

function names(base: string, steps: Step[], depth: number): string {
  const i = steps.findIndex((s) => s.each);
  if (i < 0) return `[?${base}${steps.map((s) => `.?${s.field}`).join('')}.?name]`;
  const step = steps[i]!;
  const head = `${base}${steps
    .slice(0, i + 1)
    .map((s) => `.?${s.field}`)
    .join('')}`;
  const v = `e${depth}`;
  const rest = steps.slice(i + 1);
  if (step.each === 'list') return `${head}.orValue([]).map(${v}, ${names(v, rest, depth + 1)}).flatten()`;
  const m = `m${depth}`;
  // A map is read through its keys; `m` binds the map once.
  return `[${head}.orValue({})].map(${m}, ${m}.map(${v}, ${names(`${m}[${v}]`, rest, depth + 1)}).flatten()).flatten()`;
}
