import { describe, expect, it } from 'vitest';
import { evolve, initialState, meetingDecider } from '../../domain/meeting.ts';
import type { MeetingCommand, MeetingEvent } from '../../domain/meeting.ts';
import { deciderSpec } from '../support/decider-spec.ts';

const spec = deciderSpec(meetingDecider);
const at = '2026-03-01T12:00:00.000Z';
const by = { id: 'admin-1', roles: ['admin' as const] };
const instructor = { id: 'ivan', roles: ['instructor' as const] };

const scheduleData = {
  meetingId: 'm1',
  title: 'Strength',
  customerId: 'cora',
  instructorId: 'ivan',
  start: '2026-03-02T15:00:00.000Z',
  end: '2026-03-02T16:00:00.000Z',
  timezone: 'America/New_York',
  trainingType: '1-1' as const,
  at,
  by,
};
const schedule = (overrides: Record<string, unknown> = {}): MeetingCommand =>
  ({ type: 'ScheduleMeeting', data: { ...scheduleData, ...overrides } }) as MeetingCommand;

const scheduled: MeetingEvent = {
  type: 'MeetingScheduled',
  data: { ...scheduleData, description: '', customerMetadata: '', instructorMetadata: '' },
};
const confirmed: MeetingEvent = { type: 'MeetingConfirmed', data: { meetingId: 'm1', at, by } };
const cancelled: MeetingEvent = { type: 'SessionCancelled', data: { meetingId: 'm1', origin: 'meeting', at, by } };

const cmd = {
  confirm: { type: 'ConfirmMeeting', data: { at, by } } as MeetingCommand,
  cancel: (reason?: string) =>
    ({
      type: 'CancelMeeting',
      data: { origin: 'meeting', at, by: instructor, ...(reason !== undefined ? { reason } : {}) },
    }) as MeetingCommand,
  reinstate: { type: 'ReinstateMeeting', data: { at, by } } as MeetingCommand,
  details: (changes: Record<string, string>, origin: 'meeting' | 'series' = 'meeting') =>
    ({ type: 'ChangeMeetingDetails', data: { origin, at, by, ...changes } }) as MeetingCommand,
  reschedule: (start: string, end: string, timezone?: string, origin: 'meeting' | 'series' = 'meeting') =>
    ({
      type: 'RescheduleMeeting',
      data: { start, end, origin, at, by, ...(timezone !== undefined ? { timezone } : {}) },
    }) as MeetingCommand,
  trainingType: (trainingType: '1-1' | 'link', remoteLink?: string, origin: 'meeting' | 'series' = 'meeting') =>
    ({
      type: 'ChangeTrainingType',
      data: { trainingType, origin, at, by, ...(remoteLink !== undefined ? { remoteLink } : {}) },
    }) as MeetingCommand,
};

const fieldError = (path: string) => (error: unknown) => {
  expect(error).toMatchObject({ _tag: 'ValidationFailed' });
  expect((error as { errors: Array<{ path: string }> }).errors.map((e) => e.path)).toContain(path);
};

describe('Meeting: schedule', () => {
  it('Given nothing, When scheduled, Then MeetingScheduled with defaults for optional text', () => {
    spec.given([]).when(schedule()).then([scheduled]);
  });

  it('records who scheduled it and when', () => {
    spec
      .given([])
      .when(schedule())
      .then([expect.objectContaining({ data: expect.objectContaining({ at, by }) }) as MeetingEvent]);
  });

  it('a scheduled meeting starts planned', () => {
    spec
      .given([])
      .when(schedule())
      .thenState((s) => expect(s.status).toBe('planned'));
  });

  it('refuses to schedule twice', () => {
    spec.given([scheduled]).when(schedule()).thenError({ _tag: 'MeetingAlreadyExists' });
  });

  it('refuses end before start', () => {
    spec
      .given([])
      .when(schedule({ end: '2026-03-02T14:00:00.000Z' }))
      .thenError(fieldError('end'));
  });

  it('refuses end equal to start', () => {
    spec
      .given([])
      .when(schedule({ end: scheduleData.start }))
      .thenError(fieldError('end'));
  });

  it('refuses a meeting longer than 24 hours', () => {
    spec
      .given([])
      .when(schedule({ end: '2026-03-03T15:00:00.001Z' }))
      .thenError(fieldError('end'));
  });

  it('accepts exactly 24 hours', () => {
    spec
      .given([])
      .when(schedule({ end: '2026-03-03T15:00:00.000Z' }))
      .thenState((s) => expect(s.status).toBe('planned'));
  });

  it('refuses an unknown time zone', () => {
    spec
      .given([])
      .when(schedule({ timezone: 'Mars/Olympus' }))
      .thenError(fieldError('timezone'));
  });

  it('refuses the same person as customer and instructor', () => {
    spec
      .given([])
      .when(schedule({ instructorId: 'cora' }))
      .thenError(fieldError('instructorId'));
  });

  it('requires a remote link for link meetings', () => {
    spec
      .given([])
      .when(schedule({ trainingType: 'link' }))
      .thenError(fieldError('remoteLink'));
  });

  it('requires https for remote links', () => {
    spec
      .given([])
      .when(schedule({ trainingType: 'link', remoteLink: 'http://zoom.example/j/1' }))
      .thenError(fieldError('remoteLink'));
    spec
      .given([])
      .when(schedule({ trainingType: 'link', remoteLink: 'javascript:alert(1)' }))
      .thenError(fieldError('remoteLink'));
  });

  it('refuses a remote link on a 1-1 meeting', () => {
    spec
      .given([])
      .when(schedule({ remoteLink: 'https://zoom.example/j/1' }))
      .thenError(fieldError('remoteLink'));
  });

  it('accepts an https link meeting', () => {
    spec
      .given([])
      .when(schedule({ trainingType: 'link', remoteLink: 'https://zoom.example/j/1' }))
      .thenState((s) => expect(s).toMatchObject({ trainingType: 'link', remoteLink: 'https://zoom.example/j/1' }));
  });

  it('refuses an empty title and reports every bad field at once', () => {
    spec
      .given([])
      .when(schedule({ title: '   ', end: '2026-03-01T00:00:00.000Z', timezone: 'Nowhere/Town' }))
      .thenError((error) => {
        expect((error as unknown as { errors: Array<{ path: string }> }).errors.map((e) => e.path).sort()).toEqual([
          'end',
          'timezone',
          'title',
        ]);
      });
  });

  it('refuses control characters: none in a title, only line breaks and tabs in longer text', () => {
    spec
      .given([])
      .when(schedule({ title: 'Yoga\rATTENDEE:mailto:x@evil.example' }))
      .thenError(fieldError('title'));
    spec
      .given([])
      .when(schedule({ title: 'Yoga\nSession' }))
      .thenError(fieldError('title'));
    spec
      .given([])
      .when(schedule({ description: 'bad\u0007bell' }))
      .thenError(fieldError('description'));
    spec
      .given([])
      .when(schedule({ description: 'Line one\r\nLine two\twith a tab' }))
      .thenState((s) => expect(s.status).toBe('planned'));
    spec.given([scheduled]).when(cmd.cancel('ill\u0000')).thenError(fieldError('reason'));
  });

  it('refuses oversized text', () => {
    spec
      .given([])
      .when(schedule({ description: 'x'.repeat(5001) }))
      .thenError(fieldError('description'));
    spec
      .given([])
      .when(schedule({ customerMetadata: 'x'.repeat(10_001) }))
      .thenError(fieldError('customerMetadata'));
  });
});

describe('Meeting: transitions', () => {
  it('Given planned, When confirmed, Then MeetingConfirmed (scheduled)', () => {
    spec.given([scheduled]).when(cmd.confirm).then([confirmed]);
    spec
      .given([scheduled])
      .when(cmd.confirm)
      .thenState((s) => expect(s.status).toBe('scheduled'));
  });

  it('refuses to confirm a scheduled meeting', () => {
    spec.given([scheduled, confirmed]).when(cmd.confirm).thenError({ _tag: 'InvalidTransition', from: 'scheduled' });
  });

  it('refuses to confirm a cancelled meeting', () => {
    spec.given([scheduled, cancelled]).when(cmd.confirm).thenError({ _tag: 'InvalidTransition', from: 'cancelled' });
  });

  it('Given planned, When cancelled with a reason, Then SessionCancelled with the reason and actor', () => {
    spec
      .given([scheduled])
      .when(cmd.cancel(' Trainer ill '))
      .then([
        {
          type: 'SessionCancelled',
          data: { meetingId: 'm1', origin: 'meeting', reason: 'Trainer ill', at, by: instructor },
        },
      ]);
  });

  it('Given scheduled, When cancelled, Then SessionCancelled', () => {
    spec
      .given([scheduled, confirmed])
      .when(cmd.cancel())
      .thenState((s) => expect(s.status).toBe('cancelled'));
  });

  it('refuses to cancel twice', () => {
    spec.given([scheduled, cancelled]).when(cmd.cancel()).thenError({ _tag: 'InvalidTransition', from: 'cancelled' });
  });

  it('refuses an overlong reason', () => {
    spec
      .given([scheduled])
      .when(cmd.cancel('x'.repeat(1001)))
      .thenError(fieldError('reason'));
  });

  it('Given cancelled, When reinstated, Then MeetingReinstated (planned)', () => {
    spec
      .given([scheduled, cancelled])
      .when(cmd.reinstate)
      .then([{ type: 'MeetingReinstated', data: { meetingId: 'm1', at, by } }]);
    spec
      .given([scheduled, cancelled])
      .when(cmd.reinstate)
      .thenState((s) => expect(s.status).toBe('planned'));
  });

  it('refuses to reinstate a planned or scheduled meeting', () => {
    spec.given([scheduled]).when(cmd.reinstate).thenError({ _tag: 'InvalidTransition', from: 'planned' });
    spec.given([scheduled, confirmed]).when(cmd.reinstate).thenError({ _tag: 'InvalidTransition', from: 'scheduled' });
  });

  it('refuses every command but schedule on a meeting that does not exist', () => {
    for (const command of [
      cmd.confirm,
      cmd.cancel(),
      cmd.reinstate,
      cmd.details({ title: 'x' }),
      cmd.reschedule(scheduleData.start, scheduleData.end),
      cmd.trainingType('1-1'),
    ]) {
      spec.given([]).when(command).thenError({ _tag: 'MeetingNotFound' });
    }
  });
});

describe('Meeting: details', () => {
  it('Given planned, When details change, Then only the changed fields are recorded', () => {
    spec
      .given([scheduled])
      .when(cmd.details({ title: 'Strength', description: 'Bring water' }))
      .then([
        {
          type: 'MeetingDetailsChanged',
          data: { meetingId: 'm1', changes: { description: 'Bring water' }, origin: 'meeting', at, by },
        },
      ]);
  });

  it('emits nothing when nothing changes', () => {
    spec
      .given([scheduled])
      .when(cmd.details({ title: 'Strength' }))
      .then([]);
  });

  it('refuses an empty title', () => {
    spec
      .given([scheduled])
      .when(cmd.details({ title: '' }))
      .thenError(fieldError('title'));
  });

  it('refuses detail changes on a cancelled meeting', () => {
    spec
      .given([scheduled, cancelled])
      .when(cmd.details({ title: 'New' }))
      .thenError({ _tag: 'InvalidTransition', from: 'cancelled' });
  });

  it('a series edit leaves a field that was edited on the meeting itself alone', () => {
    const edited: MeetingEvent = {
      type: 'MeetingDetailsChanged',
      data: { meetingId: 'm1', changes: { title: 'Custom' }, origin: 'meeting', at, by },
    };
    spec
      .given([scheduled, edited])
      .when(cmd.details({ title: 'Series title', description: 'Series description' }, 'series'))
      .then([
        {
          type: 'MeetingDetailsChanged',
          data: { meetingId: 'm1', changes: { description: 'Series description' }, origin: 'series', at, by },
        },
      ]);
  });

  it('a series edit does not mark fields as individually edited', () => {
    const state = [
      scheduled,
      {
        type: 'MeetingDetailsChanged',
        data: { meetingId: 'm1', changes: { title: 'S' }, origin: 'series', at, by },
      } as MeetingEvent,
    ].reduce(evolve, initialState());
    expect(state.status !== 'none' && state.individuallyEdited).toEqual([]);
  });
});

describe('Meeting: reschedule', () => {
  it('Given planned, When rescheduled, Then MeetingRescheduled with the previous slot', () => {
    spec
      .given([scheduled])
      .when(cmd.reschedule('2026-03-03T15:00:00.000Z', '2026-03-03T16:00:00.000Z', 'Europe/London'))
      .then([
        {
          type: 'MeetingRescheduled',
          data: {
            meetingId: 'm1',
            start: '2026-03-03T15:00:00.000Z',
            end: '2026-03-03T16:00:00.000Z',
            timezone: 'Europe/London',
            previous: { start: scheduleData.start, end: scheduleData.end, timezone: 'America/New_York' },
            origin: 'meeting',
            at,
            by,
          },
        },
      ]);
  });

  it('keeps the zone when none is given and bumps the calendar sequence', () => {
    spec
      .given([scheduled])
      .when(cmd.reschedule('2026-03-03T15:00:00.000Z', '2026-03-03T16:00:00.000Z'))
      .thenState((s) =>
        expect(s).toMatchObject({ timezone: 'America/New_York', sequence: 1, individuallyEdited: ['time'] }),
      );
  });

  it('refuses end before start, over 24 hours and a bad zone', () => {
    spec
      .given([scheduled])
      .when(cmd.reschedule('2026-03-03T15:00:00.000Z', '2026-03-03T14:00:00.000Z'))
      .thenError(fieldError('end'));
    spec
      .given([scheduled])
      .when(cmd.reschedule('2026-03-03T15:00:00.000Z', '2026-03-04T16:00:00.000Z'))
      .thenError(fieldError('end'));
    spec
      .given([scheduled])
      .when(cmd.reschedule(scheduleData.start, scheduleData.end, 'Bad/Zone'))
      .thenError(fieldError('timezone'));
  });

  it('refuses to reschedule a cancelled meeting', () => {
    spec
      .given([scheduled, cancelled])
      .when(cmd.reschedule(scheduleData.start, '2026-03-02T17:00:00.000Z'))
      .thenError({ _tag: 'InvalidTransition' });
  });

  it('keeps what a reschedule leaves out as the meeting has it', () => {
    spec
      .given([scheduled])
      .when({
        type: 'RescheduleMeeting',
        data: { end: '2026-03-02T17:00:00.000Z', origin: 'meeting', at, by },
      } as MeetingCommand)
      .thenState((s) => expect(s).toMatchObject({ start: scheduleData.start, end: '2026-03-02T17:00:00.000Z' }));
    spec
      .given([scheduled])
      .when({
        type: 'RescheduleMeeting',
        data: { start: '2026-03-02T16:30:00.000Z', origin: 'meeting', at, by },
      } as MeetingCommand)
      .thenError(fieldError('end'));
  });

  it('emits nothing for the same slot', () => {
    spec.given([scheduled]).when(cmd.reschedule(scheduleData.start, scheduleData.end)).then([]);
  });

  it('a series reschedule skips a meeting whose time was set individually', () => {
    const moved: MeetingEvent = {
      type: 'MeetingRescheduled',
      data: {
        meetingId: 'm1',
        start: '2026-03-02T17:00:00.000Z',
        end: '2026-03-02T18:00:00.000Z',
        timezone: 'America/New_York',
        previous: { start: scheduleData.start, end: scheduleData.end, timezone: 'America/New_York' },
        origin: 'meeting',
        at,
        by,
      },
    };
    spec
      .given([scheduled, moved])
      .when(cmd.reschedule('2026-03-02T16:00:00.000Z', '2026-03-02T17:00:00.000Z', undefined, 'series'))
      .then([]);
  });
});

describe('Meeting: training type', () => {
  it('Given 1-1, When changed to link with an https URL, Then TrainingTypeChanged', () => {
    spec
      .given([scheduled])
      .when(cmd.trainingType('link', 'https://meet.example/abc'))
      .then([
        {
          type: 'TrainingTypeChanged',
          data: {
            meetingId: 'm1',
            trainingType: 'link',
            remoteLink: 'https://meet.example/abc',
            origin: 'meeting',
            at,
            by,
          },
        },
      ]);
  });

  it('Given link, When changed to 1-1, Then the link is gone', () => {
    const linked: MeetingEvent = {
      type: 'TrainingTypeChanged',
      data: {
        meetingId: 'm1',
        trainingType: 'link',
        remoteLink: 'https://meet.example/abc',
        origin: 'meeting',
        at,
        by,
      },
    };
    spec
      .given([scheduled, linked])
      .when(cmd.trainingType('1-1'))
      .thenState((s) => {
        expect(s).toMatchObject({ trainingType: '1-1' });
        expect(s).not.toHaveProperty('remoteLink');
      });
  });

  it('refuses link without URL, non-https URL and 1-1 with a URL', () => {
    spec.given([scheduled]).when(cmd.trainingType('link')).thenError(fieldError('remoteLink'));
    spec.given([scheduled]).when(cmd.trainingType('link', 'ftp://x.example/a')).thenError(fieldError('remoteLink'));
    spec.given([scheduled]).when(cmd.trainingType('1-1', 'https://x.example/a')).thenError(fieldError('remoteLink'));
  });

  it('refuses on a cancelled meeting', () => {
    spec
      .given([scheduled, cancelled])
      .when(cmd.trainingType('link', 'https://meet.example/abc'))
      .thenError({ _tag: 'InvalidTransition' });
  });
});

describe('Meeting: evolve', () => {
  it('cancel remembers who cancelled; reinstate forgets it and bumps the sequence', () => {
    const afterCancel = [scheduled, cancelled].reduce(evolve, initialState());
    expect(afterCancel).toMatchObject({ status: 'cancelled', cancelledBy: 'meeting', sequence: 1 });
    const afterReinstate = evolve(afterCancel, { type: 'MeetingReinstated', data: { meetingId: 'm1', at, by } });
    expect(afterReinstate).toMatchObject({ status: 'planned', sequence: 2 });
    expect(afterReinstate).not.toHaveProperty('cancelledBy');
  });
});
