import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import {
  SettingsEvent,
  coalesceSecondsOf,
  completeSettings,
  decide,
  defaultSettings,
  emailTemplatesFor,
  emailTopics,
  evolve,
  initialState,
  kindEnabled,
  notifyInstructorOf,
  reminderOffsetsMinutes,
  MAX_SETTINGS_BYTES,
  changeKinds,
} from '../../domain/settings.ts';
import { Settings } from '../../domain/settings.ts';
import type { EmailTemplate } from '../../domain/settings.ts';
import { builtInTemplates } from '../../domain/email-defaults.ts';
import { foreignToken, parseTemplate, tokensForTopic } from '../../domain/template.ts';

const stamp = { at: '2030-03-01T12:00:00.000Z', by: { id: 'ada', roles: ['admin' as const] } };

/** Today's body: only the cancellation section, as every client before issue 14 sends it. */
const todays: Settings = {
  notifications: {
    cancellation: {
      enabled: false,
      subject: 'Cancelled: {{meetingTitle}}',
      bodyTemplate: '<p>Hi {{customerName}}</p>',
      notifyInstructor: true,
    },
  },
  debugLevel: 2,
};

const put = (settings: Settings, state: Settings): Settings => {
  const decided = decide({ type: 'ChangeSettings', data: { settings, ...stamp } }, state);
  if (E.isLeft(decided)) throw new Error(JSON.stringify(decided.left));
  return decided.right.reduce(evolve, state);
};

const errorsOf = (settings: unknown): Array<{ path: string; message: string }> => {
  const decided = decide(
    { type: 'ChangeSettings', data: { settings: settings as Settings, ...stamp } },
    initialState(),
  );
  return E.isLeft(decided) ? [...decided.left.errors] : [];
};

describe('settings for every kind of email', () => {
  it("today's body stays valid and means what it means today; the new sections keep their values", () => {
    const withKinds = put(
      {
        ...todays,
        notifications: {
          ...todays.notifications,
          kinds: { booked: { enabled: false, notifyInstructor: false } },
          coalesceSeconds: 10,
          reminders: { offsetsMinutes: [30] },
          templates: {
            es: { booked: { customer: { subject: 'Reserva {{meetingTitle}}', bodyTemplate: '<p>x</p>' } } },
          },
        },
      },
      initialState(),
    );
    const after = put(todays, withKinds);
    expect(kindEnabled(after, 'cancelled')).toBe(false);
    expect(notifyInstructorOf(after, 'cancelled')).toBe(true);
    expect(kindEnabled(after, 'booked')).toBe(false);
    expect(kindEnabled(after, 'rescheduled')).toBe(true);
    expect(coalesceSecondsOf(after, 60)).toBe(10);
    expect(reminderOffsetsMinutes(after)).toEqual([30]);
    expect(emailTemplatesFor(after, 'booked', 'customer', 'es-MX').subject).toBe('Reserva {{meetingTitle}}');
    expect(emailTemplatesFor(after, 'booked', 'instructor', 'es')).toEqual(builtInTemplates.es.booked.instructor);
    expect(after.debugLevel).toBe(2);
  });

  it('defaults: every kind on, instructors told of changes, reminders a day and an hour before, the env window', () => {
    for (const topic of emailTopics.filter((t) => t !== 'cancelled'))
      expect(kindEnabled(defaultSettings, topic)).toBe(true);
    expect(notifyInstructorOf(defaultSettings, 'rescheduled')).toBe(true);
    expect(notifyInstructorOf(defaultSettings, 'reminder')).toBe(false);
    expect(reminderOffsetsMinutes(defaultSettings)).toEqual([1440, 60]);
    expect(coalesceSecondsOf(defaultSettings, 45)).toBe(45);
    expect(completeSettings(defaultSettings).notifications.coalesceSeconds).toBeUndefined();
  });

  it('recipients read their language (es-MX → es), anything else English; English cancellations are the section', () => {
    expect(emailTemplatesFor(defaultSettings, 'cancelled', 'customer', 'en-GB').subject).toBe(
      defaultSettings.notifications.cancellation.subject,
    );
    expect(emailTemplatesFor(defaultSettings, 'cancelled', 'customer', 'es-MX')).toEqual(
      builtInTemplates.es.cancelled.customer,
    );
    expect(emailTemplatesFor(defaultSettings, 'reminder', 'customer', 'fr')).toEqual(
      builtInTemplates.en.reminder.customer,
    );
    expect(emailTemplatesFor(defaultSettings, 'reminder', 'instructor')).toEqual(
      builtInTemplates.en.reminder.instructor,
    );
  });

  it("a site's customised cancellation still reaches Spanish readers until their own cancellation is set, per role", () => {
    const customised = put(todays, initialState());
    expect(emailTemplatesFor(customised, 'cancelled', 'customer', 'es-MX')).toEqual({
      subject: 'Cancelled: {{meetingTitle}}',
      bodyTemplate: '<p>Hi {{customerName}}</p>',
    });
    // The instructor's pair was never customised: the built-in Spanish one.
    expect(emailTemplatesFor(customised, 'cancelled', 'instructor', 'es')).toEqual(
      builtInTemplates.es.cancelled.instructor,
    );
    const spanish = { subject: 'Cancelada: {{meetingTitle}}', bodyTemplate: '<p>Hola {{customerName}}</p>' };
    const withSpanish = put(
      {
        ...todays,
        notifications: { ...todays.notifications, templates: { es: { cancelled: { customer: spanish } } } },
      },
      customised,
    );
    expect(emailTemplatesFor(withSpanish, 'cancelled', 'customer', 'es')).toEqual(spanish);
    expect(emailTemplatesFor(withSpanish, 'cancelled', 'customer', 'en').subject).toBe('Cancelled: {{meetingTitle}}');
  });

  it('refuses a PUT that would grow the merged settings past their bound, naming the templates', () => {
    const long = (tag: string) => ({ subject: tag, bodyTemplate: `<p>${tag}</p>${'x'.repeat(40_000)}` });
    const en = Object.fromEntries(
      changeKinds.map((kind) => [kind, { customer: long(`${kind} c`), instructor: long(`${kind} i`) }]),
    );
    // Each body is within its own bound, and so is each PUT; the English ones fit (about 400 KB).
    const withEnglish = put(
      { ...todays, notifications: { ...todays.notifications, templates: { en } } },
      initialState(),
    );
    expect(JSON.stringify(withEnglish).length).toBeLessThan(MAX_SETTINGS_BYTES);
    const es = {
      booked: { customer: long('es c'), instructor: long('es i') },
      changed: { customer: long('es x'), instructor: long('es y') },
    };
    const decided = decide(
      {
        type: 'ChangeSettings',
        data: { settings: { ...todays, notifications: { ...todays.notifications, templates: { es } } }, ...stamp },
      },
      withEnglish,
    );
    expect(E.isLeft(decided)).toBe(true);
    if (E.isLeft(decided)) {
      expect(decided.left.errors).toHaveLength(1);
      expect(decided.left.errors[0]).toMatchObject({ path: 'notifications.templates' });
      expect(decided.left.errors[0]!.message).toContain(String(MAX_SETTINGS_BYTES));
    }
    // A smaller one still fits.
    const fits = put(
      {
        ...todays,
        notifications: { ...todays.notifications, templates: { es: { booked: { customer: long('es') } } } },
      },
      withEnglish,
    );
    expect(emailTemplatesFor(fits, 'booked', 'customer', 'es').subject).toBe('es');
  });

  it('null takes a template pair back to the built-in one, and the window back to NOTIFY_COALESCE_SECONDS', () => {
    const mine = { subject: 'Mine {{meetingTitle}}', bodyTemplate: '<p>mine</p>' };
    const custom = put(
      {
        ...todays,
        notifications: {
          ...todays.notifications,
          coalesceSeconds: 10,
          templates: { en: { booked: { customer: mine, instructor: mine } }, es: { reminder: { customer: mine } } },
        },
      },
      initialState(),
    );
    expect(emailTemplatesFor(custom, 'booked', 'customer')).toEqual(mine);
    expect(coalesceSecondsOf(custom, 60)).toBe(10);
    const reset = put(
      {
        ...todays,
        notifications: {
          ...todays.notifications,
          coalesceSeconds: null,
          templates: { en: { booked: { customer: null } }, es: { reminder: { customer: null } } },
        },
      },
      custom,
    );
    expect(emailTemplatesFor(reset, 'booked', 'customer')).toEqual(builtInTemplates.en.booked.customer);
    expect(emailTemplatesFor(reset, 'reminder', 'customer', 'es')).toEqual(builtInTemplates.es.reminder.customer);
    // The pair not named keeps its value; nothing of the reset is kept as null.
    expect(emailTemplatesFor(reset, 'booked', 'instructor')).toEqual(mine);
    expect(coalesceSecondsOf(reset, 60)).toBe(60);
    expect(reset.notifications.coalesceSeconds).toBeUndefined();
    expect(JSON.stringify(reset)).not.toContain('null');
    expect(reset.notifications.templates).toEqual({ en: { booked: { instructor: mine } } });
    // Decoding a body with nulls succeeds: the codec accepts them.
    expect(
      E.isRight(
        Settings.decode(
          JSON.parse(
            JSON.stringify({
              ...todays,
              notifications: {
                ...todays.notifications,
                coalesceSeconds: null,
                templates: { es: { booked: { customer: null } } },
              },
            }),
          ),
        ),
      ),
    ).toBe(true);
  });

  it('every built-in template parses and uses only the tokens its topic fills', () => {
    for (const [language, topics] of Object.entries(builtInTemplates)) {
      for (const [topic, roles] of Object.entries(topics) as Array<[string, Record<string, EmailTemplate>]>) {
        for (const pair of Object.values(roles)) {
          for (const template of [pair.subject, pair.bodyTemplate]) {
            const parts = parseTemplate(template);
            if (E.isLeft(parts)) throw new Error(`${language}.${topic}: ${parts.left}`);
            expect(foreignToken(parts.right, tokensForTopic(topic as never)), `${language}.${topic}`).toBeUndefined();
          }
        }
      }
    }
    expect(tokensForTopic('reminder')).not.toContain('location'); // a reminder's own link is added as it is sent
    expect(tokensForTopic('rescheduled')).toContain('previousStartDate');
  });

  it('refuses bad new sections naming the field', () => {
    const base = todays.notifications;
    const paths = (notifications: Record<string, unknown>) =>
      errorsOf({ ...todays, notifications: { ...base, ...notifications } }).map((e) => e.path);
    expect(paths({ coalesceSeconds: 3601 })).toEqual(['notifications.coalesceSeconds']);
    expect(paths({ coalesceSeconds: 1.5 })).toEqual(['notifications.coalesceSeconds']);
    expect(paths({ reminders: { offsetsMinutes: [] } })).toEqual(['notifications.reminders.offsetsMinutes']);
    expect(paths({ reminders: { offsetsMinutes: [60, 60] } })).toEqual(['notifications.reminders.offsetsMinutes']);
    expect(paths({ reminders: { offsetsMinutes: [4] } })).toEqual(['notifications.reminders.offsetsMinutes.0']);
    expect(paths({ reminders: { offsetsMinutes: [1, 2, 3, 4, 5, 6].map((n) => n * 60) } })).toEqual([
      'notifications.reminders.offsetsMinutes',
    ]);
    expect(paths({ reminders: { offsetsMinutes: [14 * 24 * 60 + 1] } })).toEqual([
      'notifications.reminders.offsetsMinutes.0',
    ]);
    const template = (bodyTemplate: string) => ({ subject: 's', bodyTemplate });
    expect(paths({ templates: { es: { cancelled: { customer: template('<p>{{location}}</p>') } } } })).toEqual([
      'notifications.templates.es.cancelled.customer.bodyTemplate',
    ]);
    expect(paths({ templates: { en: { booked: { instructor: template('<p>{{nope}}</p>') } } } })).toEqual([
      'notifications.templates.en.booked.instructor.bodyTemplate',
    ]);
    expect(paths({ templates: { en: { cancelled: { customer: template('<p>x</p>') } } } })).toEqual([
      'notifications.templates.en.cancelled.customer',
    ]);
    expect(paths({ templates: { en: { reminder: { customer: template('<p>{{startDate}}</p>') } } } })).toEqual([]);
    expect(
      errorsOf({
        ...todays,
        notifications: { ...base, cancellation: { ...base.cancellation, bodyTemplate: '{{location}}' } },
      }).map((e) => e.path),
    ).toEqual(['notifications.cancellation.bodyTemplate']);
  });

  it('settings recorded before these sections still decode, and new ones round-trip through the event', () => {
    const old = SettingsEvent.decode({ type: 'SettingsChanged', data: { settings: todays, ...stamp } });
    expect(E.isRight(old)).toBe(true);
    const full = put({ ...todays, notifications: { ...todays.notifications, coalesceSeconds: 0 } }, initialState());
    const again = SettingsEvent.decode({ type: 'SettingsChanged', data: { settings: full, ...stamp } });
    if (E.isLeft(again)) throw new Error('does not decode');
    expect(coalesceSecondsOf(again.right.data.settings, 60)).toBe(0);
  });
});
