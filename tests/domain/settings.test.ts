import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  SettingsEvent,
  cancellationTemplatesFor,
  completeSettings,
  decide,
  defaultInstructorTemplates,
  evolve,
  initialState,
} from '../../domain/settings.ts';
import type { Settings } from '../../domain/settings.ts';

const stamp = { at: '2030-03-01T12:00:00.000Z', by: { id: 'ada', roles: ['admin' as const] } };

/** A body as clients sent it before the instructor's templates existed. */
const todays: Settings = {
  notifications: {
    cancellation: {
      enabled: true,
      subject: 'Cancelled: {{meetingTitle}}',
      bodyTemplate: '<p>Hi {{customerName}}</p>',
      notifyInstructor: true,
    },
  },
  debugLevel: 0,
};

const change = (settings: Settings, state: Settings) =>
  decide({ type: 'ChangeSettings', data: { settings, ...stamp } }, state);

describe('settings with per-role cancellation templates', () => {
  it('reads settings recorded before the instructor templates existed, with the defaults for them', () => {
    const recorded = SettingsEvent.decode({ type: 'SettingsChanged', data: { settings: todays, ...stamp } });
    if (E.isLeft(recorded)) throw new Error('an old SettingsChanged event no longer decodes');
    const settings = evolve(initialState(), recorded.right);
    expect(cancellationTemplatesFor(settings, 'customer')).toEqual({
      subject: 'Cancelled: {{meetingTitle}}',
      bodyTemplate: '<p>Hi {{customerName}}</p>',
    });
    expect(cancellationTemplatesFor(settings, 'instructor')).toEqual({
      subject: defaultInstructorTemplates.instructorSubject,
      bodyTemplate: defaultInstructorTemplates.instructorBodyTemplate,
    });
    expect(completeSettings(settings).notifications.cancellation).toMatchObject(defaultInstructorTemplates);
  });

  it("keeps the instructor's templates when a body leaves them out, and records nothing for a body that changes nothing", () => {
    const custom = {
      instructorSubject: 'Coach: {{meetingTitle}}',
      instructorBodyTemplate: '<p>Hi {{recipientName}}</p>',
    };
    const withCustom: Settings = {
      ...todays,
      notifications: { cancellation: { ...todays.notifications.cancellation, ...custom } },
    };
    const set = change(withCustom, initialState());
    if (E.isLeft(set) || set.right[0] === undefined) throw new Error('expected a change');
    const state = evolve(initialState(), set.right[0]);
    // Today's body, once more: nothing changes, the instructor's templates stay.
    expect(change(todays, state)).toEqual(E.right([]));
    const edited = change({ ...todays, debugLevel: 2 }, state);
    if (E.isLeft(edited) || edited.right[0] === undefined) throw new Error('expected a change');
    expect(edited.right[0].data.settings.notifications.cancellation).toMatchObject(custom);
    expect(edited.right[0].data.settings.debugLevel).toBe(2);
  });

  it('validates the instructor templates with their own paths', () => {
    const bad = change(
      {
        ...todays,
        notifications: {
          cancellation: {
            ...todays.notifications.cancellation,
            instructorSubject: 'two\nlines',
            instructorBodyTemplate: '{{nope}}',
          },
        },
      },
      initialState(),
    );
    expect(E.isLeft(bad) && bad.left.errors.map((e) => e.path)).toEqual([
      'notifications.cancellation.instructorSubject',
      'notifications.cancellation.instructorBodyTemplate',
    ]);
  });
});
