export const messages = {
  en: { signIn: { title: 'Sign in', demo: 'Demo people (dev mode)' } },
  es: { signIn: { title: 'Iniciar sesión', demo: 'Personas de demostración (modo desarrollo)' } },
};
