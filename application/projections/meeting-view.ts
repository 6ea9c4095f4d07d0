import { evolve } from '../../domain/meeting.ts';
import type { Meeting, MeetingEvent, MeetingState } from '../../domain/meeting.ts';
import type { CalendarEntry, MeetingView } from '../ports/read-models.ts';
import type { RecordedEvent } from '../ports/event-store.ts';

const toState = (view: MeetingView | undefined): MeetingState => {
  if (view === undefined) return { status: 'none' };
  const { state, createdAt: _c, updatedAt: _u, revision: _r, cancellationReason: _reason, ...meeting } = view;
  return { ...meeting, status: state };
};

/** The meeting view is the aggregate's own state plus the bookkeeping readers need. */
export const projectMeetingView = (
  view: MeetingView | undefined,
  event: MeetingEvent,
  recorded: RecordedEvent,
): MeetingView | undefined => {
  const next = evolve(toState(view), event);
  if (next.status === 'none') return undefined;
  const { status, ...meeting }: Meeting = next;
  const reason =
    event.type === 'SessionCancelled'
      ? event.data.reason
      : next.status === 'cancelled'
        ? view?.cancellationReason
        : undefined;
  return {
    ...meeting,
    state: status,
    createdAt: view?.createdAt ?? event.data.at,
    updatedAt: event.data.at,
    revision: recorded.revision,
    ...(reason !== undefined ? { cancellationReason: reason } : {}),
  };
};

export const calendarEntriesOf = (view: MeetingView): ReadonlyArray<Omit<CalendarEntry, 'counterpartName'>> => {
  const base = {
    meetingId: view.id,
    ...(view.seriesId !== undefined ? { seriesId: view.seriesId } : {}),
    title: view.title,
    start: view.start,
    end: view.end,
    timezone: view.timezone,
    state: view.state,
    trainingType: view.trainingType,
    customerId: view.customerId,
    instructorId: view.instructorId,
  };
  return [
    { ...base, role: 'customer' },
    { ...base, role: 'instructor' },
  ];
};
