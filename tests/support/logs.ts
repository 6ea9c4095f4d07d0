import { Writable } from 'node:stream';
import pino from 'pino';

/** One line of the system's JSON log, parsed. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

/** A pino logger at `level` whose lines are parsed into `lines` as they are written, for tests that read the log. */
export const capturingLogger = <L extends LogLine = LogLine>(level: pino.LevelWithSilent = 'info') => {
  const lines: L[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as L);
      callback();
    },
  });
  return { lines, logger: pino({ level }, stream) };
};
