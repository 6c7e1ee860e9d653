// The one compiler of a Workflow's `inputSchema`: the operator compiles with it to decide that a
// Workflow is Ready, the ingress to check each delivery, so a schema the operator accepts is one
// the ingress can use.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import draft7 from 'ajv/dist/refs/json-schema-draft-07.json' with { type: 'json' };
import addFormatsModule from 'ajv-formats';
import { RE2JS } from 're2js';

/** A larger schema is refused: compiling is work on the ingress's event loop. */
export const MAX_SCHEMA_BYTES = 64 * 1024;

/** Why a schema cannot be used; the message is the compiler's and safe to show its owner. */
export class InputSchemaError extends Error {}

/**
 * `pattern` and `patternProperties` run on RE2 (linear time): the ECMAScript engine backtracks, and
 * `^(a+)+$` against 30 characters of sender input takes seconds. RE2 has no lookaround or
 * backreferences; a schema that uses them is refused at compile time.
 */
const re2 = Object.assign((pattern: string) => RE2JS.compile(RE2JS.translateRegExp(pattern)), {
  code: 're2js',
});

const addFormats = addFormatsModule.default;

/**
 * One JSON text per JSON Schema value: object keys sorted, numbers as JSON writes them (1 and 1.0
 * are one number), so two items are equal exactly when their texts are.
 */
export function canonicalJSON(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const isComposite = (v: unknown): v is object => v !== null && typeof v === 'object';
const sameValue = (a: unknown, b: unknown) =>
  isComposite(a) ? isComposite(b) && canonicalJSON(a) === canonicalJSON(b) : a === b;

/**
 * `uniqueItems` in linear time. Ajv compares untyped or object items pairwise: 20,000 items took
 * 0.45 s, a 1 MiB array of distinct numbers tens of seconds on the shared event loop. Each item's
 * canonical text goes into a set instead, so an array costs about its own size once.
 */
function uniqueItems(unique: boolean, data: unknown[]): boolean {
  if (!unique) return true;
  // Scalars are their own keys (a Set tells 1 from "1"); arrays and objects go by their text, in
  // a set of their own (the object {} is not the string "{}").
  const scalars = new Set<unknown>();
  const composites = new Set<string>();
  for (let j = 0; j < data.length; j++) {
    const item = data[j];
    const composite = isComposite(item);
    const seen: Set<unknown> = composite ? composites : scalars;
    const key = composite ? canonicalJSON(item) : item;
    if (seen.has(key)) {
      // Only on failure: which earlier item it repeats, as Ajv's own message says.
      const i = data.findIndex((other) => sameValue(other, item));
      uniqueItems.errors = [
        {
          keyword: 'uniqueItems',
          message: `must NOT have duplicate items (items ## ${j} and ${i} are identical)`,
          params: { i: j, j: i },
        },
      ];
      return false;
    }
    seen.add(key);
  }
  return true;
}
uniqueItems.errors = undefined as Partial<ErrorObject>[] | undefined;

/**
 * Draft 2020-12, and draft-07 where `$schema` says so. Schemas never see each other (`addUsedSchema: false`): two workflows may use the
 * same `$id`, and one tenant's schema cannot `$ref` another's. Unknown keywords are allowed, as JSON
 * Schema says; anything the meta-schema rejects is refused.
 */
export class SchemaCompiler {
  #ajv?: Ajv2020;

  /** Created on first use: compiling the meta-schema costs about 0.1 s once. */
  get ajv(): Ajv2020 {
    if (!this.#ajv) {
      this.#ajv = new Ajv2020({
        strict: false,
        allErrors: false,
        addUsedSchema: false,
        validateSchema: true,
        code: { regExp: re2 as never },
      });
      this.#ajv.addMetaSchema(draft7);
      addFormats(this.#ajv);
      this.#ajv.removeKeyword('uniqueItems');
      this.#ajv.addKeyword({
        keyword: 'uniqueItems',
        type: 'array',
        schemaType: 'boolean',
        validate: uniqueItems,
      });
    }
    return this.#ajv;
  }

  compile(schema: object): ValidateFunction {
    const size = Buffer.byteLength(JSON.stringify(schema));
    if (size > MAX_SCHEMA_BYTES)
      throw new InputSchemaError(`inputSchema is ${size} bytes of JSON, more than ${MAX_SCHEMA_BYTES}`);
    try {
      return this.ajv.compile(schema);
    } catch (err) {
      this.ajv.removeSchema(schema);
      throw new InputSchemaError(`inputSchema cannot be compiled: ${(err as Error).message}`.slice(0, 1024));
    }
  }

  /** Forgets a compiled schema (Ajv keeps every compiled schema until told). */
  forget(schema: object): void {
    this.#ajv?.removeSchema(schema);
  }

  /** Throws InputSchemaError when the schema cannot be used; keeps nothing. */
  check(schema: object): void {
    this.compile(schema);
    this.forget(schema);
  }
}
