import { describe, expect, it } from 'vitest';
import { messages as history } from '../../../adapters/web/src/features/history/messages.ts';
import { messages as shared } from '../../../adapters/web/src/i18n/messages.ts';

// The history fold of a meeting's attendance events, without a browser (see history-fold.test.ts for the pattern).
type Translate = (key: string, named?: Record<string, unknown>) => string;
interface Item {
  readonly key: string;
  readonly headline: string;
  readonly changes: ReadonlyArray<{ field: string; from?: string; to: string }>;
}
interface Timeline {
  foldHistory(
    events: ReadonlyArray<Record<string, unknown>>,
    ctx: { t: Translate; locale: string; zone: string },
  ): Item[];
}
const timelinePath = '../../../adapters/web/src/features/history/timeline.ts';
const { foldHistory } = (await import(/* @vite-ignore */ timelinePath)) as Timeline;

const words: Record<string, unknown> = { ...shared.en, ...history.en };
const t: Translate = (key, named = {}) => {
  const found = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], words);
  if (typeof found !== 'string') throw new Error(`no message ${key}`);
  return found.replace(/\{(\w+)\}/g, (_, name: string) => String(named[name] ?? `{${name}}`));
};
const ctx = { t, locale: 'en-US', zone: 'Europe/London' };
const ivan = { id: 'ivan', roles: ['instructor'] };
const entry = (revision: number, position: number, type: string, data: Record<string, unknown>) => ({
  revision,
  position,
  type,
  at: '2026-03-02T10:05:00.000Z',
  actor: ivan,
  data,
});

describe('the history fold of attendance', () => {
  it('names who joined and left, and marks from → to, keyed by log position', () => {
    const items = foldHistory(
      [
        entry(0, 10, 'MeetingScheduled', {
          title: 'Strength',
          customerId: 'cora',
          instructorId: 'ivan',
          start: '2026-03-02T10:00:00.000Z',
          end: '2026-03-02T11:00:00.000Z',
          timezone: 'Europe/London',
          trainingType: '1-1',
        }),
        entry(0, 11, 'ParticipantJoined', { personId: 'ivan', role: 'instructor' }),
        entry(1, 12, 'ParticipantLeft', { personId: 'ivan', role: 'instructor' }),
        entry(2, 13, 'AttendanceMarked', { personId: 'cora', status: 'no-show' }),
        entry(3, 14, 'AttendanceMarked', { personId: 'cora', status: 'attended', previous: 'no-show' }),
        entry(4, 15, 'AttendanceMarked', { personId: 'ivan', status: 'attended' }),
      ],
      ctx,
    );
    expect(items.map((i) => i.key)).toEqual(['10', '11', '12', '13', '14', '15']);
    expect(items.slice(1).map((i) => i.headline)).toEqual([
      'The trainer joined the call',
      'The trainer left the call',
      "Marked the member's attendance",
      "Marked the member's attendance",
      "Marked the trainer's attendance",
    ]);
    expect(items[3]!.changes).toEqual([{ field: 'Attendance', to: 'no-show' }]);
    expect(items[4]!.changes).toEqual([{ field: 'Attendance', from: 'no-show', to: 'attended' }]);
  });
});
