const MAX_ORIGIN_LENGTH = 2048;

/** The `origin` query of `GET /signaling/origin-check`: `http(s)://host[:port]` of a given origin, or why it is not one. */
export const parseOrigin = (raw: string | undefined): { ok: true; origin: string } | { ok: false; message: string } => {
  if (raw === undefined || raw.trim() === '')
    return { ok: false, message: 'is required (the origin of the page, like http://localhost:8080)' };
  if (raw.length > MAX_ORIGIN_LENGTH) return { ok: false, message: `must be at most ${MAX_ORIGIN_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: 'must be an origin like http://localhost:8080' };
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin === 'null') {
    return { ok: false, message: 'must be an http or https origin' };
  }
  return { ok: true, origin: url.origin };
};
