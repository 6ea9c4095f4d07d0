import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import {
  CoalesceSeconds,
  DebugLevel,
  EmailTemplate,
  KindSettings,
  ReminderSettings,
  SETTINGS_NOTE,
  Settings,
  cancellationSettingsFields,
  changeKinds,
  emailTopics,
} from '../../../domain/settings.ts';
import type { CompleteSettings } from '../../../domain/settings.ts';

/** The settings are replaced whole: the body is the domain's settings codec itself. */
export const SettingsBody = Settings;

const rolesResource = annotate(t.type({ customer: EmailTemplate, instructor: EmailTemplate }), {
  name: 'RoleTemplatesResource',
});

/** Settings as they apply (`GET`, and the answer to `PUT`): every template present. */
export const SettingsResource = annotate(
  t.type({
    notifications: t.intersection([
      t.type({
        cancellation: annotate(t.type(cancellationSettingsFields), {
          name: 'CancellationNotificationSettings',
          description:
            "The cancellation email as it applies: the member's templates and the instructor's (defaults until first set).",
        }),
        kinds: annotate(
          t.type(
            Object.fromEntries(changeKinds.map((k) => [k, KindSettings])) as Record<
              (typeof changeKinds)[number],
              typeof KindSettings
            >,
          ),
          {
            name: 'NotificationKindsResource',
            description:
              'Every kind of email besides cancellations: on or off, and whether the instructor gets one too.',
          },
        ),
        reminders: ReminderSettings,
        templates: annotate(
          t.type({
            en: t.type(
              Object.fromEntries(changeKinds.map((k) => [k, rolesResource])) as Record<
                (typeof changeKinds)[number],
                typeof rolesResource
              >,
            ),
            es: t.type(
              Object.fromEntries(emailTopics.map((k) => [k, rolesResource])) as Record<
                (typeof emailTopics)[number],
                typeof rolesResource
              >,
            ),
          }),
          {
            name: 'EmailTemplatesResource',
            description:
              'Every template as it applies (the built-in ones until set). English cancellation templates: `notifications.cancellation`.',
          },
        ),
      }),
      t.partial({ coalesceSeconds: CoalesceSeconds }),
    ]),
    debugLevel: DebugLevel,
  }),
  { name: 'Settings', description: `Site settings as they apply. ${SETTINGS_NOTE}` },
);

// The settings as they apply are answered as they are: the compiler holds them to the documented shape.
const _settingsAnswerFits = (settings: CompleteSettings): t.TypeOf<typeof SettingsResource> => settings;

/** `POST /settings/preview`: a template pair as the editor has it, rendered for one reader and session. */
export const SettingsPreviewBody = annotate(
  t.intersection([
    t.type({
      subject: annotate(t.string, { description: 'The subject template to render (one line, `{{token}}`s).' }),
      bodyTemplate: annotate(t.string, { description: 'The body template to render (HTML with `{{token}}`s).' }),
    }),
    t.partial({
      recipient: annotate(t.union([t.literal('customer'), t.literal('instructor')]), {
        description: "Whose email: the member's (default) or the instructor's.",
      }),
      meetingId: annotate(t.string, {
        maxLength: 200,
        description: 'The session to render for; absent: the next one to come, else the most recent.',
      }),
      reason: annotate(t.string, { maxLength: 1000, description: 'The cancellation reason to show.' }),
      topic: annotate(
        t.keyof(Object.fromEntries(emailTopics.map((k) => [k, null])) as Record<(typeof emailTopics)[number], null>),
        {
          description: 'Which email the templates are for (absent: the cancellation); its tokens are the ones allowed.',
        },
      ),
      language: annotate(t.string, {
        maxLength: 35,
        description:
          "The reader's language (`es`, `es-MX`), naming the training type as that email does; absent: English.",
      }),
    }),
  ]),
  { name: 'SettingsPreviewInput', description: 'What to render: nothing is saved or sent.' },
);

export const SettingsPreview = annotate(
  t.intersection([
    t.type({
      subject: t.string,
      html: annotate(t.string, { description: 'The HTML body: token values HTML-escaped, as the mailer sends it.' }),
      text: annotate(t.string, { description: 'The plain-text part made from that HTML.' }),
    }),
    t.partial({
      meetingId: annotate(t.string, {
        description: 'The session rendered; absent when there is none and example values were used.',
      }),
    }),
  ]),
  {
    name: 'SettingsPreview',
    description: 'An email (the cancellation, or the topic asked for) as its reader would get it.',
  },
);

export const TemplateTokens = annotate(
  t.type({
    meeting: annotate(t.array(t.string), { description: 'Tokens every cancellation email can use.' }),
    series: annotate(t.array(t.string), { description: 'Tokens filled when a series is cancelled.' }),
    topics: annotate(
      t.type(
        Object.fromEntries(emailTopics.map((k) => [k, t.array(t.string)])) as Record<
          (typeof emailTopics)[number],
          t.ArrayC<t.StringC>
        >,
      ),
      { description: "Every topic's tokens (cancelled, booked, rescheduled, changed, reinstated, reminder)." },
    ),
  }),
  { name: 'TemplateTokens', description: 'The `{{token}}` names templates may use; any other is refused.' },
);
