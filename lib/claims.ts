import { Environment } from '@marcbachmann/cel-js';

/**
 * Conditions on a verified token's claims, in the style of Kubernetes' structured authentication
 * configuration: exact values (`claim` = `value`) and CEL expressions over `claims` that must be
 * true. CEL has no loops or recursion, so its cost is bounded by the expression and the token: an
 * expression is at most 1024 characters and 256 AST nodes, and holds at most one comprehension
 * (`all`, `exists`, `exists_one`, `map`, `filter`), so its cost is linear in the token's size
 * (itself capped by the header limit): nested comprehensions would be quadratic.
 */
export interface ClaimValue {
  claim: string;
  value: string;
}
export interface ClaimRule {
  expression: string;
  message: string;
}

export class RuleError extends Error {}

const env = new Environment({
  unlistedVariablesAreDyn: false,
  limits: { maxAstNodes: 256, maxDepth: 32, maxListElements: 64, maxMapEntries: 64, maxCallArguments: 8 },
}).registerVariable('claims', 'map');

const MAX_EXPRESSION = 1024;
const COMPREHENSIONS = /\.\s*(?:all|exists|exists_one|map|filter)\s*\(/g;

type Compiled = (context: { claims: Record<string, unknown> }) => unknown;
const compiled = new Map<string, Compiled>();

/** The rule compiled, or a RuleError saying why not (for the operator's Stalled message). */
export function compileRule(expression: string): Compiled {
  const hit = compiled.get(expression);
  if (hit) return hit;
  if (expression.length > MAX_EXPRESSION) throw new RuleError(`longer than ${MAX_EXPRESSION} characters`);
  if ((expression.match(COMPREHENSIONS) ?? []).length > 1)
    throw new RuleError('at most one comprehension (all, exists, exists_one, map, filter) per expression');
  let fn: Compiled;
  try {
    fn = env.parse(expression) as unknown as Compiled;
  } catch (err) {
    throw new RuleError((err as Error).message.split('\n')[0]!);
  }
  // A bounded memo: expressions come from trigger specs, so there are few; never grow without end.
  if (compiled.size >= 1024) compiled.clear();
  compiled.set(expression, fn);
  return fn;
}

/** The message of the first condition the claims fail, or undefined when all hold. */
export function failedCondition(
  claims: Record<string, unknown>,
  values: ClaimValue[] = [],
  rules: ClaimRule[] = [],
): string | undefined {
  for (const { claim, value } of values) {
    if (claims[claim] !== value) return `claim ${claim} does not match`;
  }
  for (const rule of rules) {
    let result: unknown;
    try {
      result = compileRule(rule.expression)({ claims });
    } catch {
      result = false; // a missing claim, a type mismatch: the condition does not hold
    }
    if (result !== true) return rule.message;
  }
  return undefined;
}
