export const messages = {
  en: {
    profile: {
      title: 'Your account',
      name: 'Name',
      email: 'Email',
      roles: 'Roles',
      zone: 'Time zone',
      zoneFromBrowser: '{zone} (from this browser; staff can set yours in the directory)',
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
    },
  },
};
