/** What went wrong, as a line for the log: an error's message, else the thrown value as text. */
export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
