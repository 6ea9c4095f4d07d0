import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import { DebugLevel, SETTINGS_NOTE, Settings, cancellationSettingsFields } from '../../../domain/settings.ts';
import type { CompleteSettings } from '../../../domain/settings.ts';

/** The settings are replaced whole: the body is the domain's settings codec itself. */
export const SettingsBody = Settings;

/** Settings as they apply (`GET`, and the answer to `PUT`): every template present. */
export const SettingsResource = annotate(
  t.type({
    notifications: t.type({
      cancellation: annotate(t.type(cancellationSettingsFields), {
        name: 'CancellationNotificationSettings',
        description:
          "The cancellation email as it applies: the member's templates and the instructor's (defaults until first set).",
      }),
    }),
    debugLevel: DebugLevel,
  }),
  { name: 'Settings', description: `Site settings as they apply. ${SETTINGS_NOTE}` },
);

// The settings as they apply are answered as they are: the compiler holds them to the documented shape.
const _settingsAnswerFits = (settings: CompleteSettings): t.TypeOf<typeof SettingsResource> => settings;
