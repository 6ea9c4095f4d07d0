export const messages = {
  en: {
    signIn: {
      title: 'Sign in',
      exchanging: 'Signing you in…',
      byEmail: 'Sign in with an email link',
      byEmailHelp: 'Enter the address we know you by. We will email you a link that signs you in once.',
      email: 'Email address',
      emailInvalid: 'Enter an email address like name@example.com.',
      send: 'Email me a sign-in link',
      sent: 'If this address belongs to someone who may sign in, a link is on its way. It works once, for 15 minutes.',
      badCode: 'This sign-in link has been used or has expired. Ask for a new one below.',
      sso: 'Single sign-on',
      ssoButton: 'Sign in with your organisation account',
      demo: 'Demo people (dev mode)',
    },
  },
  es: {
    signIn: {
      title: 'Iniciar sesión',
      exchanging: 'Iniciando tu sesión…',
      byEmail: 'Entrar con un enlace por correo',
      byEmailHelp: 'Escribe la dirección con la que te conocemos. Te enviaremos un enlace que inicia sesión una vez.',
      email: 'Correo electrónico',
      emailInvalid: 'Escribe una dirección de correo como nombre@ejemplo.com.',
      send: 'Enviarme un enlace para entrar',
      sent: 'Si esta dirección pertenece a alguien que puede entrar, el enlace va de camino. Sirve una vez, durante 15 minutos.',
      badCode: 'Este enlace para entrar ya se usó o ha caducado. Pide uno nuevo abajo.',
      sso: 'Inicio de sesión único',
      ssoButton: 'Entrar con la cuenta de tu organización',
      demo: 'Personas de demostración (modo desarrollo)',
    },
  },
};
