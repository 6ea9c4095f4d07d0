/**
 * The fields among `keys` that a partial change sets, as a change command's data wants them: only those present, so
 * an absent field stays as it is (undefined: the change sets none of them, and there is no command to send).
 */
export const fieldsSet = <P extends object, K extends keyof P>(
  patch: P,
  keys: ReadonlyArray<K>,
): Partial<Pick<P, K>> | undefined => {
  const set: Partial<Pick<P, K>> = {};
  let any = false;
  for (const key of keys) {
    if (patch[key] === undefined) continue;
    set[key] = patch[key];
    any = true;
  }
  return any ? set : undefined;
};
