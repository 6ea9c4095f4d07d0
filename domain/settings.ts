import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { Actor, IsoInstant, validationFailed } from './shared.ts';
import type { FieldError, ValidationFailed } from './shared.ts';
import { parseTemplate } from './template.ts';

export const CancellationNotificationSettings = t.type({
  enabled: t.boolean,
  subject: t.string,
  bodyTemplate: t.string,
  notifyInstructor: t.boolean,
});

export const Settings = t.type({
  notifications: t.type({ cancellation: CancellationNotificationSettings }),
  debugLevel: t.number,
});
export type Settings = t.TypeOf<typeof Settings>;

export const defaultSettings: Settings = {
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
    },
  },
  debugLevel: 0,
};

export const SettingsChanged = t.type({
  type: t.literal('SettingsChanged'),
  data: t.type({ settings: Settings, at: IsoInstant, by: Actor }),
});
export const SettingsEvent = SettingsChanged;
export type SettingsEvent = t.TypeOf<typeof SettingsEvent>;

export const ChangeSettings = t.type({
  type: t.literal('ChangeSettings'),
  data: t.type({ settings: Settings, at: IsoInstant, by: Actor }),
});
export type SettingsCommand = t.TypeOf<typeof ChangeSettings>;

export type SettingsState = Settings;
export const initialState = (): SettingsState => defaultSettings;

export const validateSettings = (settings: Settings): FieldError[] => {
  const errors: FieldError[] = [];
  const { subject, bodyTemplate } = settings.notifications.cancellation;
  const path = 'notifications.cancellation';
  if (subject.trim().length === 0 || subject.length > 300) errors.push({ path: `${path}.subject`, message: 'must be 1 to 300 characters' });
  if (/[\r\n]/.test(subject)) errors.push({ path: `${path}.subject`, message: 'must be a single line' });
  if (bodyTemplate.length > 50_000) errors.push({ path: `${path}.bodyTemplate`, message: 'must be at most 50000 characters' });
  const subjectParts = parseTemplate(subject);
  if (E.isLeft(subjectParts)) errors.push({ path: `${path}.subject`, message: subjectParts.left });
  const bodyParts = parseTemplate(bodyTemplate);
  if (E.isLeft(bodyParts)) errors.push({ path: `${path}.bodyTemplate`, message: bodyParts.left });
  if (!Number.isInteger(settings.debugLevel) || settings.debugLevel < 0 || settings.debugLevel > 9) {
    errors.push({ path: 'debugLevel', message: 'must be an integer from 0 to 9' });
  }
  return errors;
};

export const decide = (command: SettingsCommand, state: SettingsState): E.Either<ValidationFailed, SettingsEvent[]> => {
  const errors = validateSettings(command.data.settings);
  if (errors.length > 0) return E.left(validationFailed(errors));
  if (JSON.stringify(command.data.settings) === JSON.stringify(state)) return E.right([]);
  return E.right([{ type: 'SettingsChanged', data: command.data }]);
};

export const evolve = (_state: SettingsState, event: SettingsEvent): SettingsState => event.data.settings;

export const settingsStreamName = 'settings-global';
export const settingsDecider = { decide, evolve, initialState } as const;
