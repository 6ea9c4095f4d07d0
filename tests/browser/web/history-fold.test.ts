import { describe, expect, it } from 'vitest';
import { messages as history } from '../../../adapters/web/src/features/history/messages.ts';
import { messages as shared } from '../../../adapters/web/src/i18n/messages.ts';

// The fold is the web app's code, which the server's compiler does not check (vue-tsc does): it is loaded by a path
// the compiler does not follow, and typed here as far as this test uses it.
type Translate = (key: string, named?: Record<string, unknown>, plural?: number) => string;
interface Ctx {
  readonly t: Translate;
  readonly locale: string;
  readonly zone: string;
}
interface Item {
  readonly headline: string;
  readonly changes: ReadonlyArray<{ field: string; from?: string; to: string }>;
  readonly notes: ReadonlyArray<string>;
}
type HistoryEntry = Record<string, unknown>;
interface Timeline {
  foldHistory(events: ReadonlyArray<HistoryEntry>, ctx: Ctx): Item[];
  ruleInWords(rrule: string, ctx: Ctx): string;
  typeInWords(type: string): string;
}
const timelinePath = '../../../adapters/web/src/features/history/timeline.ts';
const { foldHistory, ruleInWords, typeInWords } = (await import(/* @vite-ignore */ timelinePath)) as Timeline;

// The fold behind the history timelines, without a browser: English words from the app's own messages, with
// vue-i18n's `{name}` interpolation and `a | b` plurals done here the same way.
const words: Record<string, unknown> = { ...shared.en, ...history.en };
const t: Translate = (key, named = {}, plural) => {
  const found = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], words);
  if (typeof found !== 'string') throw new Error(`no message ${key}`);
  const forms = found.split(' | ');
  const form = forms.length > 1 && plural !== undefined ? (forms[plural === 1 ? 0 : 1] ?? found) : found;
  return form.replace(/\{(\w+)\}/g, (_, name: string) => String(named[name] ?? `{${name}}`));
};
const ctx = { t, locale: 'en-US', zone: 'Europe/London' };
const actor = { id: 'ada', roles: ['admin' as const] };
const event = (revision: number, type: string, data: Record<string, unknown>): HistoryEntry => ({
  revision,
  position: revision,
  type,
  at: '2026-03-01T10:00:00.000Z',
  actor,
  data,
});

const recurrence = (over: Record<string, unknown> = {}) => ({
  rrule: 'FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10',
  startDate: '2026-03-02',
  startTime: '10:00',
  durationMinutes: 60,
  timezone: 'Europe/London',
  exclusions: [],
  ...over,
});

describe('history fold', () => {
  it('says rules in words, and a rule beyond those words as it is', () => {
    expect(ruleInWords('FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10', ctx)).toBe('every week on Monday and Wednesday, 10 times');
    expect(ruleInWords('RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;UNTIL=20260630T235959Z', ctx)).toBe(
      'every 2 weeks on Friday, until Tue, Jun 30, 2026',
    );
    expect(ruleInWords('FREQ=DAILY;COUNT=1', ctx)).toBe('every day, 1 time');
    expect(ruleInWords('FREQ=MONTHLY;BYSETPOS=1;BYDAY=MO;COUNT=3', ctx)).toBe(
      'by the rule FREQ=MONTHLY;BYSETPOS=1;BYDAY=MO;COUNT=3',
    );
  });

  it('folds a series: what its pattern and details changed from and to, and what its cancellation took', () => {
    const items = foldHistory(
      [
        event(0, 'SeriesScheduled', {
          title: 'Run club',
          description: '',
          trainingType: '1-1',
          recurrence: recurrence(),
          occurrences: [{}, {}, {}],
        }),
        event(1, 'SeriesRecurrenceChanged', {
          previous: recurrence(),
          recurrence: recurrence({ startTime: '11:30', exclusions: ['2026-03-09'] }),
          added: [],
          moved: [{}, {}],
          removed: [{}],
        }),
        event(2, 'SeriesDetailsChanged', {
          changes: { title: 'Run club+', trainingType: 'link', remoteLink: 'https://x.example/r' },
        }),
        event(3, 'SeriesCancelled', { from: '2026-04-01T00:00:00.000Z', cancelled: [{}, {}], reason: 'Closed' }),
        event(4, 'PersonRolesChanged', { personId: 'x' }),
      ],
      ctx,
    );
    expect(items[0]?.headline).toBe('Created the series “Run club”');
    expect(items[0]?.changes.map((c) => c.field)).not.toContain('Description'); // empty at creation: not a change
    expect(items[0]?.notes).toEqual(['3 sessions planned']);
    expect(items[1]?.changes).toEqual([
      { field: 'Start time', from: '10:00', to: '11:30' },
      { field: 'Skipped dates', from: 'none', to: 'Mon, Mar 9, 2026' },
    ]);
    expect(items[1]?.notes).toEqual(['2 sessions moved', '1 session removed']);
    expect(items[2]?.changes).toEqual([
      { field: 'Title', from: '“Run club”', to: '“Run club+”' },
      { field: 'Kind of call', from: 'Video call here', to: 'Remote link (Zoom, Meet, Teams)' },
      { field: 'Remote link', from: undefined, to: 'https://x.example/r' },
    ]);
    expect(items[3]?.notes.slice(1)).toEqual(['2 sessions cancelled', 'Reason: “Closed”']);
    expect(items[3]?.notes[0]).toMatch(/^Every session from Wed, Apr 1, 2026, 01:00 .*\(Europe\/London\) on\.$/);
    expect(items[4]).toMatchObject({ headline: 'Other change: Person roles changed', changes: [], notes: [] });
    expect(typeInWords('SeriesOccurrencesCancelled')).toBe('Series occurrences cancelled');
  });

  it('folds a meeting: a move from where it was, the session zone where it differs, the state through a reinstatement', () => {
    const items = foldHistory(
      [
        event(0, 'MeetingScheduled', {
          title: 'Swim',
          description: 'Pool B',
          start: '2026-03-02T15:00:00.000Z',
          end: '2026-03-02T16:00:00.000Z',
          timezone: 'America/New_York',
          trainingType: '1-1',
        }),
        event(1, 'MeetingRescheduled', {
          start: '2026-03-03T16:00:00.000Z',
          end: '2026-03-03T17:00:00.000Z',
          timezone: 'America/New_York',
          previous: {
            start: '2026-03-02T15:00:00.000Z',
            end: '2026-03-02T16:00:00.000Z',
            timezone: 'America/New_York',
          },
          origin: 'series',
        }),
        event(2, 'SessionCancelled', { origin: 'meeting' }),
        event(3, 'MeetingReinstated', {}),
        event(4, 'MeetingConfirmed', {}),
      ],
      ctx,
    );
    const [move] = items[1]?.changes ?? [];
    expect(move?.field).toBe('Time');
    expect(move?.from).toMatch(
      /^Mon, Mar 2, 2026, 03:00.*\(Europe\/London\) \(Session time: .*10:00.*EST \(America\/New_York\)\)$/,
    );
    expect(move?.to).toMatch(/^Tue, Mar 3, 2026, 04:00.*\(Europe\/London\) \(Session time: .*11:00/);
    expect(items[1]?.notes).toEqual(['This came from a change to its series.']);
    expect(items[2]?.notes).toEqual(['No reason was given.']);
    expect(items.slice(2).map((i) => i.changes[0])).toEqual([
      { field: 'State', from: 'Planned', to: 'Cancelled' },
      { field: 'State', from: 'Cancelled', to: 'Planned' },
      { field: 'State', from: 'Planned', to: 'Confirmed' },
    ]);
  });
});
