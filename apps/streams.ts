/**
 * Every stream prefix this server writes. On KurrentDB, reads of `$all` and subscriptions ask for these only, so a
 * stream family missing here would be written but never projected.
 */
export const STREAM_PREFIXES: ReadonlyArray<string> = ['meeting-', 'series-', 'person-', 'settings-', 'notification-', 'feed-'];
