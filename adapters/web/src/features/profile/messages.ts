export const messages = {
  en: {
    profile: {
      title: 'Your account',
      name: 'Name',
      email: 'Email',
      roles: 'Roles',
      zone: 'Time zone',
      zoneFromBrowser: '{zone} (from this browser; staff can set yours in the directory)',
      language: 'Language',
      languageHelp:
        'The app starts in the language staff set for you in the directory (or your browser’s). The Language menu at the top changes it for this browser only; emails follow the directory.',
    },
  },
  es: {
    profile: {
      title: 'Tu cuenta',
      name: 'Nombre',
      email: 'Correo electrónico',
      roles: 'Funciones',
      zone: 'Zona horaria',
      zoneFromBrowser: '{zone} (de este navegador; el personal puede fijar la tuya en el directorio)',
      language: 'Idioma',
      languageHelp:
        'La aplicación empieza en el idioma que el personal te asignó en el directorio (o el de tu navegador). El menú Idioma de arriba lo cambia solo en este navegador; los correos siguen el directorio.',
    },
  },
};
