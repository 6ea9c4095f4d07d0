import { Agent, request } from 'node:http';
import { summarize } from './stats.ts';
import type { Summary } from './stats.ts';

/** One keep-alive connection, one request at a time: latency as one user sees it. */
export const timeGets = async (
  url: string,
  path: string,
  headers: Record<string, string>,
  iterations: number,
  warmup: number,
): Promise<{ summary: Summary; bytes: number }> => {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const get = () =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: target.hostname, port: target.port, path, headers, agent }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(bytes) : reject(new Error(`GET ${path}: ${res.statusCode}`)),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  try {
    let bytes = 0;
    for (let i = 0; i < warmup; i++) bytes = await get();
    const samples = new Float64Array(iterations);
    for (let i = 0; i < iterations; i++) {
      const started = performance.now();
      bytes = await get();
      samples[i] = performance.now() - started;
    }
    return { summary: summarize(samples), bytes };
  } finally {
    agent.destroy();
  }
};
