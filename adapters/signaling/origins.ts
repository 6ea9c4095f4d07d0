const normalizeOrigin = (origin: string): string | undefined => {
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
};

/**
 * Whether a browser on an origin may open the socket: exact origins (normalized, so `https://a.example:443` is
 * `https://a.example`) or `'*'`. A request without an Origin header is not a browser's and is allowed.
 */
export const originCheck = (allowed: readonly string[] | '*'): ((origin: string | undefined) => boolean) => {
  const origins =
    allowed === '*' ? '*' : new Set(allowed.map(normalizeOrigin).filter((o): o is string => o !== undefined));
  return (origin) => {
    if (origins === '*' || origin === undefined) return true;
    const normalized = normalizeOrigin(origin);
    return normalized !== undefined && origins.has(normalized);
  };
};
