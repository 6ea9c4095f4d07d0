import { ConfigError } from './config.ts';

/** The command line was wrong: said with the usage, exit code 2. */
export class UsageError extends Error {}

/**
 * Runs a command-line tool's main and exits with its code. A usage error prints the usage (2), a configuration error
 * says so (2), anything else prints its message and exits with `otherFailure`.
 */
export const runCli = (main: () => Promise<number>, usage: string, otherFailure: number): void => {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError) {
        process.stderr.write(`${error.message}\n${usage}\n`);
        process.exit(2);
      }
      const prefix = error instanceof ConfigError ? 'Configuration error: ' : '';
      process.stderr.write(`${prefix}${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(error instanceof ConfigError ? 2 : otherFailure);
    },
  );
};
