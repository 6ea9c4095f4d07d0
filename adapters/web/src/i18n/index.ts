import { createI18n } from 'vue-i18n';

export const LANGUAGES = ['en', 'es'] as const;
export type Language = (typeof LANGUAGES)[number];

/** A feature's messages: `{en: {...}, es: {...}}` with the same keys in both (tests/adapters/web checks it). */
export interface Messages {
  readonly en: Record<string, unknown>;
  readonly es: Record<string, unknown>;
}

/** Every `messages.ts` of the app, merged: each feature folder keeps its own words next to its views. */
const modules = import.meta.glob<Messages>('../**/messages.ts', { eager: true, import: 'messages' });

const merged = (language: Language): Record<string, unknown> =>
  Object.assign({}, ...Object.values(modules).map((m) => m[language]));

/** Keys a page asked for that its language lacks: tests read this list and must find it empty. */
export const missingKeys: string[] = [];
(window as unknown as { __i18nMissing: string[] }).__i18nMissing = missingKeys;

export const pickLanguage = (preferred: string | undefined): Language => {
  const candidates = [preferred, ...(navigator.languages ?? [])].filter((l): l is string => typeof l === 'string');
  for (const candidate of candidates) {
    const base = candidate.toLowerCase().split('-')[0];
    if ((LANGUAGES as ReadonlyArray<string>).includes(base ?? '')) return base as Language;
  }
  return 'en';
};

export const i18n = createI18n({
  legacy: false,
  locale: pickLanguage(localStorage.getItem('language') ?? undefined),
  fallbackLocale: 'en',
  messages: { en: merged('en'), es: merged('es') } as never,
  missingWarn: false,
  fallbackWarn: false,
  missing: (locale, key) => {
    missingKeys.push(`${locale}:${key}`);
  },
});

export const setLanguage = (language: Language): void => {
  i18n.global.locale.value = language;
  localStorage.setItem('language', language);
  document.documentElement.lang = language;
};
