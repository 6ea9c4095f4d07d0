export const messages = {
  en: { calendar: { previous: 'Previous $0', next: 'Next $0' } },
  es: { calendar: { previous: '$0 anterior', next: '$0 siguiente' } },
};
