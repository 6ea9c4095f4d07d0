/**
 * Every stream prefix this server projects. On KurrentDB, reads of `$all` and subscriptions ask for these only, so a
 * stream family missing here would be written but never projected. `idempotency-` streams (Idempotency-Key claims and
 * answers) are left out on purpose: they are read by stream only, and no read model needs them.
 */
export const STREAM_PREFIXES: ReadonlyArray<string> = [
  'meeting-',
  'series-',
  'person-',
  'settings-',
  'notification-',
  'feed-',
];
