/** More fields are refused, as the input stage refuses them (MAX_FORM_FIELDS in input.ts). */
const MAX_FIELDS = 1000;

/**
 * A form body as Twilio signs it: field names sorted, each followed by its value (a repeated field
 * by each of its distinct values, sorted), all concatenated (twilio-node's
 * getExpectedTwilioSignature). Undefined for more than MAX_FIELDS fields.
 */
export function sortedForm(body: Buffer): string | undefined {
  const text = body.toString('utf8');
  let fields = 1;
  for (let i = text.indexOf('&'); i >= 0; i = text.indexOf('&', i + 1)) {
    if (++fields > MAX_FIELDS) return undefined;
  }
  const byName = new Map<string, Set<string>>();
  for (const [name, value] of new URLSearchParams(text)) {
    const values = byName.get(name) ?? new Set<string>();
    values.add(value);
    byName.set(name, values);
  }
  let out = '';
  for (const name of [...byName.keys()].sort()) {
    for (const value of [...byName.get(name)!].sort()) out += name + value;
  }
  return out;
}
