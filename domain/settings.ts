import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { annotate } from './annotate.ts';
import { Actor, IsoInstant, RecordedAt, assertNever, validationFailed } from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';
import type { RecipientRole } from './notification.ts';
import { foreignToken, parseTemplate, tokensForTopic } from './template.ts';
import { builtInTemplates } from './email-defaults.ts';
import { eventTypesOf } from './decider.ts';
import type { Decider } from './decider.ts';

export const MAX_SUBJECT_LENGTH = 300;
export const MAX_BODY_TEMPLATE_LENGTH = 50_000;
export const MAX_DEBUG_LEVEL = 9;
/**
 * The most the settings may take as they apply (after a `PUT` is merged with what is kept), in bytes of JSON: templates
 * merge pair by pair, so bodies that are each small could otherwise grow the record past what an event store keeps in
 * one append (KurrentDB: 1 MiB).
 */
export const MAX_SETTINGS_BYTES = 512 * 1024;

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

export const MAX_COALESCE_SECONDS = 3600;
export const MIN_REMINDER_MINUTES = 5;
export const MAX_REMINDER_MINUTES = 14 * 24 * 60;
export const MAX_REMINDERS = 5;
export const DEFAULT_REMINDER_OFFSETS: ReadonlyArray<number> = [1440, 60];

/** The topics besides cancellations that settings switch: each one's email is on by default. */
export const changeKinds = ['booked', 'rescheduled', 'changed', 'reinstated', 'reminder'] as const;
export type ChangeKind = (typeof changeKinds)[number];
/** Every topic an email is written for; the cancellation's switch and English templates are its own section's. */
export const emailTopics = ['cancelled', ...changeKinds] as const;
export type EmailTopic = (typeof emailTopics)[number];
/** The languages with built-in templates (BCP 47 primary tags); a recipient of any other language reads English. */
export const emailLanguages = ['en', 'es'] as const;
export type EmailLanguage = (typeof emailLanguages)[number];

export const KindSettings = annotate(
  t.type({
    enabled: annotate(t.boolean, { description: 'Whether this kind of email is sent at all.' }),
    notifyInstructor: annotate(t.boolean, { description: "Also mail the session's instructor." }),
  }),
  { name: 'NotificationKindSettings' },
);
export type KindSettings = t.TypeOf<typeof KindSettings>;

const kindsProps = Object.fromEntries(changeKinds.map((k) => [k, KindSettings])) as Record<
  ChangeKind,
  typeof KindSettings
>;
export const NotificationKinds = annotate(t.partial(kindsProps), {
  name: 'NotificationKinds',
  description:
    'Per kind of email (booked, rescheduled, changed: the training type or the link, reinstated, reminder): on or off, and whether the instructor gets one too. Kinds left out keep their values.',
});

export const CoalesceSeconds = annotate(t.number, {
  type: 'integer',
  minimum: 0,
  maximum: MAX_COALESCE_SECONDS,
  description:
    'Changes to one session (or series) within this many seconds of the first go out as one email with the final state; 0 sends each at once. Absent: `NOTIFY_COALESCE_SECONDS` (60).',
});

export const ReminderSettings = annotate(
  t.type({
    offsetsMinutes: annotate(t.array(t.number), {
      minItems: 1,
      maxItems: MAX_REMINDERS,
      description: `How long before a session its reminders go out, in minutes: 1 to ${MAX_REMINDERS} distinct whole numbers from ${MIN_REMINDER_MINUTES} to ${MAX_REMINDER_MINUTES} (14 days).`,
    }),
  }),
  { name: 'ReminderSettings' },
);

export const EmailTemplate = annotate(
  t.type({ subject: subjectTemplate('topic'), bodyTemplate: bodyTemplate('topic') }),
  {
    name: 'EmailTemplate',
    description: 'A subject and a body; the tokens each topic may use: `GET /settings/template-tokens`.',
  },
);
export type EmailTemplate = t.TypeOf<typeof EmailTemplate>;
/** In a `PUT`, `null` takes a pair back to the built-in template; settings as kept never hold `null`. */
const ResettableTemplate = annotate(t.union([EmailTemplate, t.null]), {
  description: 'A subject and a body; `null` in a `PUT` takes this pair back to the built-in template.',
});
const RoleTemplates = annotate(t.partial({ customer: ResettableTemplate, instructor: ResettableTemplate }), {
  name: 'RoleTemplates',
});
const TopicTemplates = annotate(
  t.partial(Object.fromEntries(emailTopics.map((k) => [k, RoleTemplates])) as Record<EmailTopic, typeof RoleTemplates>),
  { name: 'TopicTemplates' },
);
export const EmailTemplates = annotate(
  t.partial(
    Object.fromEntries(emailLanguages.map((l) => [l, TopicTemplates])) as Record<EmailLanguage, typeof TopicTemplates>,
  ),
  {
    name: 'EmailTemplates',
    description:
      "Templates per language (`en`, `es`), topic and reader's role, overriding the built-in ones; what is left out keeps its value. The English cancellation templates are `notifications.cancellation`'s. " +
      `The settings as a whole, once merged with what is kept, may take at most ${MAX_SETTINGS_BYTES} bytes of JSON; a \`PUT\` that would pass that is refused (400) naming \`notifications.templates\`.`,
  },
);
export type EmailTemplates = t.TypeOf<typeof EmailTemplates>;

const newNotificationSections = {
  kinds: NotificationKinds,
  coalesceSeconds: annotate(t.union([CoalesceSeconds, t.null]), {
    description:
      'The coalescing window in seconds (see `CoalesceSeconds`); `null` in a `PUT` takes it back to `NOTIFY_COALESCE_SECONDS`.',
  }),
  reminders: ReminderSettings,
  templates: EmailTemplates,
};

export const Settings = annotate(
  t.type({
    notifications: t.intersection([
      t.type({ cancellation: CancellationNotificationSettings }),
      t.partial(newNotificationSections),
    ]),
    debugLevel: DebugLevel,
  }),
  {
    name: 'SettingsInput',
    description:
      'Site settings as a `PUT` sends them and the settings history records them. Fields left out keep their values only where said (the instructor templates, and the sections of `notifications` other than `cancellation`). ' +
      SETTINGS_NOTE,
  },
);
export type Settings = t.TypeOf<typeof Settings>;

type KindsComplete = Readonly<Record<ChangeKind, KindSettings>>;
type RolesComplete = { readonly customer: EmailTemplate; readonly instructor: EmailTemplate };
/** Every language's templates of every topic; English has no `cancelled` (the cancellation section holds them). */
export type TemplatesComplete = {
  readonly en: Readonly<Record<ChangeKind, RolesComplete>>;
  readonly es: Readonly<Record<EmailTopic, RolesComplete>>;
};

/**
 * Settings as they apply: every template present (the instructor's from the default when never set), every kind's
 * switch, the reminder offsets; `coalesceSeconds` only when set (else the server's `NOTIFY_COALESCE_SECONDS`).
 */
export type CompleteSettings = {
  readonly notifications: {
    readonly cancellation: Required<CancellationNotificationSettings>;
    readonly kinds: KindsComplete;
    readonly coalesceSeconds?: number;
    readonly reminders: { readonly offsetsMinutes: number[] };
    readonly templates: TemplatesComplete;
  };
  readonly debugLevel: number;
};

/**
 * Every kind is on. Instructors get the emails of changes too: their calendar holds the session as well, and a
 * change an admin or the member made is news to them; their reminders are off (they plan their own day).
 */
export const defaultKinds: KindsComplete = {
  booked: { enabled: true, notifyInstructor: true },
  rescheduled: { enabled: true, notifyInstructor: true },
  changed: { enabled: true, notifyInstructor: true },
  reinstated: { enabled: true, notifyInstructor: true },
  reminder: { enabled: true, notifyInstructor: false },
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

/** The settings before any change, as they were before the other sections existed (those keep their defaults). */
export const defaultSettings: Settings & {
  readonly notifications: { readonly cancellation: Required<CancellationNotificationSettings> };
} = {
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

type Notifications = Settings['notifications'];

const canonicalTemplates = (templates: EmailTemplates): EmailTemplates => {
  const out: Record<string, Record<string, Record<string, EmailTemplate>>> = {};
  for (const language of emailLanguages) {
    for (const topic of emailTopics) {
      for (const role of ['customer', 'instructor'] as const) {
        const pair = templates[language]?.[topic]?.[role];
        if (pair === undefined || pair === null) continue;
        ((out[language] ??= {})[topic] ??= {})[role] = { subject: pair.subject, bodyTemplate: pair.bodyTemplate };
      }
    }
  }
  return out as EmailTemplates;
};

/** One canonical shape (and key order), so equal settings compare equal. */
const canonical = (settings: Settings): Settings => {
  const c = settings.notifications.cancellation;
  const n = settings.notifications;
  const kinds: Record<string, KindSettings> = {};
  for (const kind of changeKinds) {
    const k = n.kinds?.[kind];
    if (k !== undefined) kinds[kind] = { enabled: k.enabled, notifyInstructor: k.notifyInstructor };
  }
  return {
    notifications: {
      cancellation: {
        enabled: c.enabled,
        subject: c.subject,
        bodyTemplate: c.bodyTemplate,
        notifyInstructor: c.notifyInstructor,
        ...(c.instructorSubject !== undefined ? { instructorSubject: c.instructorSubject } : {}),
        ...(c.instructorBodyTemplate !== undefined ? { instructorBodyTemplate: c.instructorBodyTemplate } : {}),
      },
      ...(Object.keys(kinds).length > 0 ? { kinds } : {}),
      ...(n.coalesceSeconds !== undefined && n.coalesceSeconds !== null ? { coalesceSeconds: n.coalesceSeconds } : {}),
      ...(n.reminders !== undefined ? { reminders: { offsetsMinutes: [...n.reminders.offsetsMinutes] } } : {}),
      ...(n.templates !== undefined && Object.keys(canonicalTemplates(n.templates)).length > 0
        ? { templates: canonicalTemplates(n.templates) }
        : {}),
    },
    debugLevel: settings.debugLevel,
  };
};

/**
 * Templates of `next` over those of `current`, pair by pair: a body naming one pair leaves the others as they are,
 * and a pair given as `null` is dropped (back to the built-in one).
 */
const mergeTemplates = (next: EmailTemplates | undefined, current: EmailTemplates | undefined) => {
  if (next === undefined) return current;
  const merged: Record<string, Record<string, Record<string, EmailTemplate>>> = {};
  for (const source of [current ?? {}, next]) {
    for (const language of emailLanguages) {
      for (const topic of emailTopics) {
        for (const role of ['customer', 'instructor'] as const) {
          const pair = source[language]?.[topic]?.[role];
          if (pair === null) delete merged[language]?.[topic]?.[role];
          else if (pair !== undefined) ((merged[language] ??= {})[topic] ??= {})[role] = pair;
        }
      }
    }
  }
  return merged as EmailTemplates;
};

/**
 * What a `PUT` leads to: the body, with what it leaves out kept as it is: the instructor's cancellation templates,
 * and every section of `notifications` besides `cancellation` (today's clients send only that one, and mean only it).
 * `kinds` and `templates` merge entry by entry.
 */
export const mergeSettings = (next: Settings, current: Settings): Settings => {
  const c = next.notifications.cancellation;
  const was = current.notifications.cancellation;
  const n: Notifications = next.notifications;
  const cur: Notifications = current.notifications;
  const instructorSubject = c.instructorSubject ?? was.instructorSubject;
  const instructorBodyTemplate = c.instructorBodyTemplate ?? was.instructorBodyTemplate;
  const kinds = n.kinds === undefined ? cur.kinds : { ...cur.kinds, ...n.kinds };
  // `null` takes the window back to the server's `NOTIFY_COALESCE_SECONDS`; absent keeps it.
  const coalesceSeconds = n.coalesceSeconds === null ? undefined : (n.coalesceSeconds ?? cur.coalesceSeconds);
  const reminders = n.reminders ?? cur.reminders;
  const templates = mergeTemplates(n.templates, cur.templates);
  return canonical({
    ...next,
    notifications: {
      cancellation: {
        ...c,
        ...(instructorSubject !== undefined ? { instructorSubject } : {}),
        ...(instructorBodyTemplate !== undefined ? { instructorBodyTemplate } : {}),
      },
      ...(kinds !== undefined ? { kinds } : {}),
      ...(coalesceSeconds !== undefined ? { coalesceSeconds } : {}),
      ...(reminders !== undefined ? { reminders } : {}),
      ...(templates !== undefined ? { templates } : {}),
    },
  });
};

const completeTemplates = (templates: EmailTemplates | undefined): TemplatesComplete => {
  const pick = <L extends EmailLanguage>(language: L, topic: EmailTopic, builtIn: RolesComplete): RolesComplete => ({
    customer: templates?.[language]?.[topic]?.customer ?? builtIn.customer,
    instructor: templates?.[language]?.[topic]?.instructor ?? builtIn.instructor,
  });
  const en = Object.fromEntries(
    changeKinds.map((kind) => [kind, pick('en', kind, builtInTemplates.en[kind])]),
  ) as Record<ChangeKind, RolesComplete>;
  const es = Object.fromEntries(
    emailTopics.map((topic) => [topic, pick('es', topic, builtInTemplates.es[topic])]),
  ) as Record<EmailTopic, RolesComplete>;
  return { en, es };
};

export const completeSettings = (settings: Settings): CompleteSettings => {
  const base = canonical(settings);
  const c = base.notifications.cancellation;
  const n = base.notifications;
  return {
    notifications: {
      cancellation: {
        ...c,
        instructorSubject: c.instructorSubject ?? defaultInstructorTemplates.instructorSubject,
        instructorBodyTemplate: c.instructorBodyTemplate ?? defaultInstructorTemplates.instructorBodyTemplate,
      },
      kinds: { ...defaultKinds, ...n.kinds },
      ...(n.coalesceSeconds !== undefined && n.coalesceSeconds !== null ? { coalesceSeconds: n.coalesceSeconds } : {}),
      reminders: { offsetsMinutes: [...(n.reminders?.offsetsMinutes ?? DEFAULT_REMINDER_OFFSETS)] },
      templates: completeTemplates(n.templates),
    },
    debugLevel: base.debugLevel,
  };
};

/** Whether emails of this topic are sent: cancellations by their own section's switch, the rest by `kinds`. */
export const kindEnabled = (settings: Settings, topic: EmailTopic): boolean =>
  topic === 'cancelled'
    ? settings.notifications.cancellation.enabled
    : (settings.notifications.kinds?.[topic] ?? defaultKinds[topic]).enabled;

/** Whether the instructor gets this topic's email too. */
export const notifyInstructorOf = (settings: Settings, topic: EmailTopic): boolean =>
  topic === 'cancelled'
    ? settings.notifications.cancellation.notifyInstructor
    : (settings.notifications.kinds?.[topic] ?? defaultKinds[topic]).notifyInstructor;

/** The primary language tag of a BCP 47 tag (`es-MX` → `es`) when templates exist for it, else English. */
export const emailLanguageOf = (tag: string | undefined): EmailLanguage => {
  const primary = (tag ?? '').split(/[-_]/)[0]?.toLowerCase() ?? '';
  return (emailLanguages as ReadonlyArray<string>).includes(primary) ? (primary as EmailLanguage) : 'en';
};

/**
 * Whether a Spanish reader gets the site's own cancellation email for this role rather than the built-in Spanish one:
 * before there were templates per language, the cancellation section's texts went to every reader, so a site that
 * customised them keeps sending them to Spanish readers until it sets `templates.es.cancelled` for the role.
 */
const siteCancellationForSpanish = (settings: Settings, role: RecipientRole): boolean => {
  if ((settings.notifications.templates?.es?.cancelled?.[role] ?? undefined) !== undefined) return false;
  const site = cancellationTemplatesFor(settings, role);
  const builtIn = cancellationTemplatesFor(defaultSettings, role);
  return site.subject !== builtIn.subject || site.bodyTemplate !== builtIn.bodyTemplate;
};

/** The subject and body of one topic's email for one reader's role, in their language (a tag such as `es-MX`). */
export const emailTemplatesFor = (
  settings: Settings,
  topic: EmailTopic,
  role: RecipientRole,
  language?: string,
): EmailTemplate => {
  const lang = emailLanguageOf(language);
  if (topic === 'cancelled' && (lang === 'en' || siteCancellationForSpanish(settings, role)))
    return cancellationTemplatesFor(settings, role);
  const templates = completeSettings(settings).notifications.templates;
  return lang === 'en' ? templates.en[topic as ChangeKind][role] : templates.es[topic][role];
};

/** How long before each session its reminders go out, in minutes, largest first. */
export const reminderOffsetsMinutes = (settings: Settings): ReadonlyArray<number> =>
  [...(settings.notifications.reminders?.offsetsMinutes ?? DEFAULT_REMINDER_OFFSETS)].sort((a, b) => b - a);

/** The coalescing window in seconds: the settings' when set, else `fallback` (`NOTIFY_COALESCE_SECONDS`). */
export const coalesceSecondsOf = (settings: Settings, fallback: number): number =>
  settings.notifications.coalesceSeconds ?? fallback;

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
export const settingsEventTypes = eventTypesOf(SettingsEvent);

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

/** A template using a token its topic cannot fill: refused, naming the field. */
const checkTopicTokens = (errors: FieldError[], path: string, template: string, topic: EmailTopic): void => {
  const parts = parseTemplate(template);
  if (E.isLeft(parts)) return;
  const foreign = foreignToken(parts.right, tokensForTopic(topic));
  if (foreign !== undefined)
    errors.push({
      path,
      message: `'{{${foreign}}}' is not filled in ${topic} emails; they may use ${tokensForTopic(topic).join(', ')}`,
    });
};

const checkTemplates = (errors: FieldError[], templates: EmailTemplates): void => {
  for (const language of emailLanguages) {
    for (const topic of emailTopics) {
      for (const role of ['customer', 'instructor'] as const) {
        const pair = templates[language]?.[topic]?.[role];
        if (pair === undefined || pair === null) continue;
        const path = `notifications.templates.${language}.${topic}.${role}`;
        if (language === 'en' && topic === 'cancelled') {
          errors.push({ path, message: 'the English cancellation templates are notifications.cancellation' });
          continue;
        }
        checkSubject(errors, `${path}.subject`, pair.subject);
        checkBody(errors, `${path}.bodyTemplate`, pair.bodyTemplate);
        checkTopicTokens(errors, `${path}.subject`, pair.subject, topic);
        checkTopicTokens(errors, `${path}.bodyTemplate`, pair.bodyTemplate, topic);
      }
    }
  }
};

const checkNewSections = (errors: FieldError[], n: Notifications): void => {
  const c = n.coalesceSeconds;
  if (c !== undefined && c !== null && (!Number.isInteger(c) || c < 0 || c > MAX_COALESCE_SECONDS))
    errors.push({
      path: 'notifications.coalesceSeconds',
      message: `must be an integer from 0 to ${MAX_COALESCE_SECONDS}`,
    });
  const offsets = n.reminders?.offsetsMinutes;
  if (offsets !== undefined) {
    const path = 'notifications.reminders.offsetsMinutes';
    if (offsets.length < 1 || offsets.length > MAX_REMINDERS)
      errors.push({ path, message: `must hold 1 to ${MAX_REMINDERS} values` });
    if (new Set(offsets).size !== offsets.length) errors.push({ path, message: 'must not repeat a value' });
    offsets.forEach((offset, i) => {
      if (!Number.isInteger(offset) || offset < MIN_REMINDER_MINUTES || offset > MAX_REMINDER_MINUTES)
        errors.push({
          path: `${path}.${i}`,
          message: `must be a whole number of minutes from ${MIN_REMINDER_MINUTES} to ${MAX_REMINDER_MINUTES}`,
        });
    });
  }
  if (n.templates !== undefined) checkTemplates(errors, n.templates);
};

export const validateSettings = (settings: Settings): FieldError[] => {
  const errors: FieldError[] = [];
  const { subject, bodyTemplate, instructorSubject, instructorBodyTemplate } = settings.notifications.cancellation;
  const path = 'notifications.cancellation';
  checkSubject(errors, `${path}.subject`, subject);
  checkBody(errors, `${path}.bodyTemplate`, bodyTemplate);
  if (instructorSubject !== undefined) checkSubject(errors, `${path}.instructorSubject`, instructorSubject);
  if (instructorBodyTemplate !== undefined) checkBody(errors, `${path}.instructorBodyTemplate`, instructorBodyTemplate);
  for (const [field, template] of [
    ['subject', subject],
    ['bodyTemplate', bodyTemplate],
    ['instructorSubject', instructorSubject],
    ['instructorBodyTemplate', instructorBodyTemplate],
  ] as const)
    if (template !== undefined) checkTopicTokens(errors, `${path}.${field}`, template, 'cancelled');
  checkNewSections(errors, settings.notifications);
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
  const bytes = new TextEncoder().encode(JSON.stringify(settings)).length;
  if (bytes > MAX_SETTINGS_BYTES)
    return E.left(
      validationFailed([
        {
          path: 'notifications.templates',
          message: `the settings would take ${bytes} bytes with the templates kept, more than the ${MAX_SETTINGS_BYTES} allowed; shorten or reset some templates`,
        },
      ]),
    );
  if (JSON.stringify(settings) === JSON.stringify(canonical(state))) return E.right([]);
  return E.right([{ type: 'SettingsChanged', data: { ...command.data, settings } }]);
};

export const evolve = (_state: SettingsState, event: SettingsEvent): SettingsState => event.data.settings;

export const settingsStreamPrefix = 'settings-';
/** There is one settings stream: the server's. */
export const settingsId = 'global';
export const settingsStreamName = `${settingsStreamPrefix}${settingsId}`;
export const settingsDecider: Decider<SettingsCommand, SettingsEvent, SettingsState, ValidationFailed> = {
  decide,
  evolve,
  initialState,
};
