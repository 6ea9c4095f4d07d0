import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { annotate } from './annotate.ts';
import { Actor, IsoInstant, RecordedAt, assertNever, validationFailed } from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';
import type { RecipientRole } from './notification.ts';
import { parseTemplate } from './template.ts';

export const MAX_SUBJECT_LENGTH = 300;
export const MAX_BODY_TEMPLATE_LENGTH = 50_000;
export const MAX_DEBUG_LEVEL = 9;

const TEMPLATE_TOKENS =
  'Tokens: siteName, meetingTitle, startDate, endDate, instructorName, customerName, recipientName (the reader), ' +
  'counterpartName (the other participant), reason, and for series sessionCount, sessionList. Unknown tokens or unbalanced braces are refused.';
const subjectTemplate = (who: string) =>
  annotate(t.string, {
    minLength: 1,
    maxLength: MAX_SUBJECT_LENGTH,
    pattern: '^[^\\r\\n]*$',
    description: `Subject of the ${who} email: one line; may use \`{{token}}\` placeholders. ${TEMPLATE_TOKENS}`,
  });
const bodyTemplate = (who: string) =>
  annotate(t.string, {
    maxLength: MAX_BODY_TEMPLATE_LENGTH,
    description: `Body of the ${who} email: HTML with \`{{token}}\` placeholders, which are HTML-escaped when filled. ${TEMPLATE_TOKENS}`,
  });

/** The fields of the cancellation email, as they apply (every one) and as bodies and events give them. */
export const cancellationSettingsFields = {
  enabled: annotate(t.boolean, { description: 'Whether cancellations are mailed at all.' }),
  subject: subjectTemplate("member's (customer's)"),
  bodyTemplate: bodyTemplate("member's (customer's)"),
  notifyInstructor: annotate(t.boolean, { description: 'Also mail the instructor (with the instructor templates).' }),
  instructorSubject: subjectTemplate("instructor's"),
  instructorBodyTemplate: bodyTemplate("instructor's"),
};
const { instructorSubject, instructorBodyTemplate, ...memberFields } = cancellationSettingsFields;

export const DebugLevel = annotate(t.number, {
  type: 'integer',
  minimum: 0,
  maximum: MAX_DEBUG_LEVEL,
  description: 'Above 0, call clients log connection details to the browser console.',
});

/**
 * The cancellation email: `subject`/`bodyTemplate` are the member's (customer's) email, as they always were;
 * `instructorSubject`/`instructorBodyTemplate` the instructor's copy. The instructor's pair is optional in a body and
 * in recorded events (settings written before it existed, clients that do not know it): absent, it keeps its current
 * value, and until it is first set that value is the default below.
 */
export const CancellationNotificationSettings = annotate(
  t.intersection([t.type(memberFields), t.partial({ instructorSubject, instructorBodyTemplate })]),
  {
    name: 'CancellationNotificationSettingsInput',
    description:
      'As sent to `PUT /settings` and recorded in `SettingsChanged`: `instructorSubject` and `instructorBodyTemplate` may be left out (clients that ' +
      'predate them), and then keep their current values.',
  },
);
export type CancellationNotificationSettings = t.TypeOf<typeof CancellationNotificationSettings>;

/** What the document says of settings both as sent and as they apply. */
export const SETTINGS_NOTE =
  'Later capabilities add sections here; the running server refuses top-level keys it does not know. ' +
  'Secret values are write-only: they are accepted by `PUT` and never returned.';

export const Settings = annotate(
  t.type({ notifications: t.type({ cancellation: CancellationNotificationSettings }), debugLevel: DebugLevel }),
  {
    name: 'SettingsInput',
    description:
      'Site settings as a `PUT` sends them and the settings history records them. Fields left out keep their values only where said (the instructor templates). ' +
      SETTINGS_NOTE,
  },
);
export type Settings = t.TypeOf<typeof Settings>;

/** Settings as they apply: every template present (the instructor's from the default when never set). */
export type CompleteSettings = Settings & {
  readonly notifications: { readonly cancellation: Required<CancellationNotificationSettings> };
};

export const defaultInstructorTemplates = {
  instructorSubject: '{{siteName}}: your session "{{meetingTitle}}" with {{customerName}} was cancelled',
  instructorBodyTemplate:
    '<p>Hello {{instructorName}},</p>' +
    '<p>Your 1on1 session <strong>{{meetingTitle}}</strong> with {{customerName}} on {{startDate}} has been cancelled.</p>' +
    '<p>{{reason}}</p>' +
    '<p>{{sessionList}}</p>' +
    '<p>Thank you,<br>{{siteName}}</p>',
} as const;

export const defaultSettings: CompleteSettings = {
  notifications: {
    cancellation: {
      enabled: true,
      subject: '{{siteName}}: your session "{{meetingTitle}}" was cancelled',
      bodyTemplate:
        '<p>Hello {{customerName}},</p>' +
        '<p>Your 1on1 session <strong>{{meetingTitle}}</strong> with {{instructorName}} on {{startDate}} has been cancelled.</p>' +
        '<p>{{reason}}</p>' +
        '<p>{{sessionList}}</p>' +
        '<p>Thank you,<br>{{siteName}}</p>',
      notifyInstructor: false,
      ...defaultInstructorTemplates,
    },
  },
  debugLevel: 0,
};

/** One canonical shape (and key order), so equal settings compare equal. */
const canonical = (settings: Settings): Settings => {
  const c = settings.notifications.cancellation;
  return {
    notifications: {
      cancellation: {
        enabled: c.enabled,
        subject: c.subject,
        bodyTemplate: c.bodyTemplate,
        notifyInstructor: c.notifyInstructor,
        instructorSubject: c.instructorSubject,
        instructorBodyTemplate: c.instructorBodyTemplate,
      },
    },
    debugLevel: settings.debugLevel,
  };
};

/** What a `PUT` leads to: the body, with the fields it leaves out (the instructor's templates) kept as they are. */
export const mergeSettings = (next: Settings, current: Settings): Settings => {
  const c = next.notifications.cancellation;
  const was = current.notifications.cancellation;
  const instructorSubject = c.instructorSubject ?? was.instructorSubject;
  const instructorBodyTemplate = c.instructorBodyTemplate ?? was.instructorBodyTemplate;
  return canonical({
    ...next,
    notifications: {
      cancellation: {
        ...c,
        instructorSubject,
        instructorBodyTemplate,
      },
    },
  });
};

export const completeSettings = (settings: Settings): CompleteSettings => {
  const base = canonical(settings);
  const c = base.notifications.cancellation;
  return {
    ...base,
    notifications: {
      cancellation: {
        ...c,
        instructorSubject: c.instructorSubject ?? defaultInstructorTemplates.instructorSubject,
        instructorBodyTemplate: c.instructorBodyTemplate ?? defaultInstructorTemplates.instructorBodyTemplate,
      },
    },
  };
};

/** The subject and body for one recipient role. */
export const cancellationTemplatesFor = (
  settings: Settings,
  role: RecipientRole,
): { readonly subject: string; readonly bodyTemplate: string } => {
  const c = completeSettings(settings).notifications.cancellation;
  switch (role) {
    case 'customer':
      return { subject: c.subject, bodyTemplate: c.bodyTemplate };
    case 'instructor':
      return { subject: c.instructorSubject, bodyTemplate: c.instructorBodyTemplate };
    default:
      return assertNever(role);
  }
};

export const SettingsChanged = t.type({
  type: t.literal('SettingsChanged'),
  data: annotate(t.type({ settings: Settings, at: RecordedAt, by: Actor }), {
    description: 'The settings were replaced.',
  }),
});
export const SettingsEvent = SettingsChanged;
export type SettingsEvent = t.TypeOf<typeof SettingsEvent>;

export const ChangeSettings = t.type({
  type: t.literal('ChangeSettings'),
  data: t.type({ settings: Settings, at: IsoInstant, by: Actor }),
});
export type SettingsCommand = t.TypeOf<typeof ChangeSettings>;

export type SettingsState = Settings;
/** Before any change: the defaults, the instructor's templates left to `completeSettings` until first set. */
export const initialState = (): SettingsState => {
  const {
    instructorSubject: _subject,
    instructorBodyTemplate: _body,
    ...cancellation
  } = defaultSettings.notifications.cancellation;
  return { ...defaultSettings, notifications: { cancellation } };
};

const checkSubject = (errors: FieldError[], path: string, subject: string): void => {
  if (subject.trim().length === 0 || subject.length > MAX_SUBJECT_LENGTH)
    errors.push({ path, message: `must be 1 to ${MAX_SUBJECT_LENGTH} characters` });
  if (/[\r\n]/.test(subject)) errors.push({ path, message: 'must be a single line' });
  const parts = parseTemplate(subject);
  if (E.isLeft(parts)) errors.push({ path, message: parts.left });
};

const checkBody = (errors: FieldError[], path: string, bodyTemplate: string): void => {
  if (bodyTemplate.length > MAX_BODY_TEMPLATE_LENGTH)
    errors.push({ path, message: `must be at most ${MAX_BODY_TEMPLATE_LENGTH} characters` });
  const parts = parseTemplate(bodyTemplate);
  if (E.isLeft(parts)) errors.push({ path, message: parts.left });
};

export const validateSettings = (settings: Settings): FieldError[] => {
  const errors: FieldError[] = [];
  const { subject, bodyTemplate, instructorSubject, instructorBodyTemplate } = settings.notifications.cancellation;
  const path = 'notifications.cancellation';
  checkSubject(errors, `${path}.subject`, subject);
  checkBody(errors, `${path}.bodyTemplate`, bodyTemplate);
  if (instructorSubject !== undefined) checkSubject(errors, `${path}.instructorSubject`, instructorSubject);
  if (instructorBodyTemplate !== undefined) checkBody(errors, `${path}.instructorBodyTemplate`, instructorBodyTemplate);
  if (!Number.isInteger(settings.debugLevel) || settings.debugLevel < 0 || settings.debugLevel > MAX_DEBUG_LEVEL) {
    errors.push({ path: 'debugLevel', message: `must be an integer from 0 to ${MAX_DEBUG_LEVEL}` });
  }
  return errors;
};

/** A body that leaves out the instructor's templates keeps them: today's clients PUT what they always did. */
export const decide = (command: SettingsCommand, state: SettingsState): E.Either<ValidationFailed, SettingsEvent[]> => {
  const errors = validateSettings(command.data.settings);
  if (errors.length > 0) return E.left(validationFailed(errors));
  const settings = mergeSettings(command.data.settings, state);
  if (JSON.stringify(settings) === JSON.stringify(canonical(state))) return E.right([]);
  return E.right([{ type: 'SettingsChanged', data: { ...command.data, settings } }]);
};

export const evolve = (_state: SettingsState, event: SettingsEvent): SettingsState => event.data.settings;

export const settingsStreamName = 'settings-global';
export const settingsDecider = { decide, evolve, initialState } as const;
