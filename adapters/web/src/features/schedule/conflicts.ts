import type { Composer } from 'vue-i18n';
import { api } from '../../api/client';
import type { Problem } from '../../api/problems';
import { formatRange, viewerZone } from '../../time';

/** One entry of a 409's `conflicts`: the other meeting when the caller may see it, else only the blocked slot. */
export interface Conflict {
  readonly participant: 'customer' | 'instructor';
  readonly userId: string;
  readonly slot: { readonly start: string; readonly end: string };
  readonly meetingId?: string;
  readonly start?: string;
  readonly end?: string;
}

export const conflictsOf = (problem: Problem | undefined): ReadonlyArray<Conflict> =>
  Array.isArray(problem?.conflicts) ? (problem.conflicts as Conflict[]) : [];

/**
 * Each conflict as a sentence: "Clashes with Strength basics, Tue 3 Nov 2026, 07:00–08:00 EST (America/New_York)"
 * when the caller may see the other meeting (its title read from the API), else "The member is busy …".
 */
export const describeConflicts = async (
  t: Composer['t'],
  locale: string,
  zone: string,
  conflicts: ReadonlyArray<Conflict>,
): Promise<string[]> => {
  // In the viewer's zone, named, and in the form's zone too when that differs.
  const range = (start: string, end: string) => {
    const mine = formatRange(start, end, viewerZone(), locale);
    return zone === viewerZone() ? mine : `${mine}; ${formatRange(start, end, zone, locale)}`;
  };
  const sentences: string[] = [];
  for (const c of conflicts) {
    if (c.meetingId !== undefined && c.start !== undefined && c.end !== undefined) {
      const { data } = await api.GET('/meetings/{id}', { params: { path: { id: c.meetingId } } });
      const when = range(c.start, c.end);
      sentences.push(
        data === undefined
          ? t('conflict.busyMeeting', { time: when })
          : t('conflict.clashesWith', { title: data.title, time: when }),
      );
    } else {
      const when = range(c.slot.start, c.slot.end);
      sentences.push(t(c.participant === 'customer' ? 'conflict.memberBusy' : 'conflict.trainerBusy', { time: when }));
    }
  }
  return sentences;
};
