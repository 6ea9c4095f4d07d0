import { Settings } from '../../../domain/settings.ts';

/** The settings are replaced whole: the body is the domain's settings codec itself. */
export const SettingsBody = Settings;
