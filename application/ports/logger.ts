/**
 * The one logger port: the part of pino's API the code uses, so a pino logger satisfies it as it is and a test can
 * pass four functions. Details come first, then the message, as in pino.
 */
export interface Log {
  debug(details: object, message: string): void;
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
  /**
   * Whether a line at `level` would be written (pino's): a hot path asks first, so that it builds no details for a
   * line the log would drop. Absent: every line counts as written.
   */
  isLevelEnabled?(level: 'debug' | 'info' | 'warn' | 'error'): boolean;
}

/** A log that also makes child logs: each line of `child(bindings)` carries `bindings` (e.g. its component). */
export interface Logger extends Log {
  child(bindings: Record<string, unknown>): Logger;
}
