import type { Composer } from 'vue-i18n';

/** An RFC 9457 problem document as the API sends it. */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>;
  readonly [extra: string]: unknown;
}

export const asProblem = (error: unknown, status?: number): Problem => {
  if (typeof error === 'object' && error !== null) return { status, ...(error as Problem) };
  return { status, detail: typeof error === 'string' ? error : undefined };
};

/** The field errors of a 400, by field path (`start`, `rrule`, `customerId`…), for messages next to the inputs. */
export const fieldErrors = (problem: Problem | undefined): Record<string, string> =>
  Object.fromEntries((problem?.errors ?? []).map((e) => [e.path, e.message]));

/**
 * A problem as a sentence a person can read, in their language: what happened (by status) and, when the server
 * said more, its detail as a second sentence. Never the JSON.
 */
export const describeProblem = (t: Composer['t'], problem: Problem | undefined): string => {
  if (problem?.network === true) return t('errors.network');
  const status = problem?.status ?? 0;
  const known = [400, 401, 403, 404, 409, 412, 413, 422, 429, 503];
  const lead = known.includes(status)
    ? t(`errors.status.${status}`)
    : status >= 500
      ? t('errors.status.500')
      : t('errors.network');
  const detail = typeof problem?.detail === 'string' && problem.detail.length > 0 ? problem.detail : undefined;
  if (detail === undefined) return lead;
  const sentence = detail.charAt(0).toUpperCase() + detail.slice(1);
  return `${lead} ${sentence}${/[.!?]$/.test(sentence) ? '' : '.'}`;
};
