/**
 * Answers valid for one read-model version: everything is dropped when the version moves, and the cache is bounded
 * by bytes (large answers are not kept at all), so no sequence of requests can grow it past its budget.
 */
export const createResponseCache = (maxBytes = 64 * 1024 * 1024, maxEntryBytes = 1024 * 1024) => {
  let version = -1;
  let bytes = 0;
  const entries = new Map<string, string>();
  return {
    get(current: number, key: string): string | undefined {
      return current === version ? entries.get(key) : undefined;
    },
    set(current: number, key: string, body: string): void {
      if (current !== version) {
        entries.clear();
        bytes = 0;
        version = current;
      }
      if (body.length > maxEntryBytes || entries.has(key)) return;
      while (bytes + body.length > maxBytes && entries.size > 0) {
        const [oldest, value] = entries.entries().next().value as [string, string];
        entries.delete(oldest);
        bytes -= value.length;
      }
      entries.set(key, body);
      bytes += body.length;
    },
  };
};
