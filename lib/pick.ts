/** The keys of `o` that are set, as a new object (`undefined` values left out). */
export const pick = <T extends object, K extends keyof T>(
  o: T | undefined,
  keys: readonly K[],
): Pick<T, K> => {
  const out = {} as Pick<T, K>;
  if (o) for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
};
