/** A finished answer as it goes on the wire: its bytes (their length is its Content-Length) and its ETag. */
export interface CachedAnswer {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly etag: string;
}

/**
 * Answers valid for one read-model version: everything is dropped when the version moves, and the cache is bounded
 * by bytes (large answers are not kept at all), so no sequence of requests can grow it past its budget. Each answer
 * is kept as its bytes with its ETag, so a request it serves encodes and hashes nothing.
 */
export const createResponseCache = (maxBytes = 64 * 1024 * 1024, maxEntryBytes = 1024 * 1024) => {
  let version = -1;
  let bytes = 0;
  const entries = new Map<string, CachedAnswer>();
  return {
    get(current: number, key: string): CachedAnswer | undefined {
      return current === version ? entries.get(key) : undefined;
    },
    set(current: number, key: string, answer: CachedAnswer): void {
      if (current !== version) {
        entries.clear();
        bytes = 0;
        version = current;
      }
      const size = answer.body.byteLength;
      if (size > maxEntryBytes || entries.has(key)) return;
      while (bytes + size > maxBytes && entries.size > 0) {
        const [oldest, value] = entries.entries().next().value as [string, CachedAnswer];
        entries.delete(oldest);
        bytes -= value.body.byteLength;
      }
      entries.set(key, answer);
      bytes += size;
    },
  };
};

/**
 * What `compute` gave for a key, remembered for keys up to `maxKeyLength` characters and at most `maxEntries` of them
 * (the oldest is forgotten first); a longer key is computed every time. Only for what follows from the key alone,
 * such as checking a raw query string: the answer is shared by every request with that key, so it must not change.
 */
export const boundedMemo = <A>(options: {
  readonly maxEntries: number;
  readonly maxKeyLength: number;
}): ((key: string, compute: () => A) => A) => {
  const memo = new Map<string, A>();
  return (key, compute) => {
    if (key.length > options.maxKeyLength) return compute();
    const known = memo.get(key);
    if (known !== undefined) return known;
    const value = compute();
    if (memo.size >= options.maxEntries) memo.delete(memo.keys().next().value as string);
    memo.set(key, value);
    return value;
  };
};
