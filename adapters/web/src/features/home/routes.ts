import type { Feature } from '../../features';
import { session } from '../../session';
import NotFound from '../../components/NotFound.vue';

/** Where each kind of person starts: their own work first. */
export const startPage = (): string => {
  if (session.hasRole('admin')) return '/branch';
  if (session.hasRole('instructor')) return '/schedule';
  if (session.hasRole('customer')) return '/sessions';
  if (session.hasRole('auditor')) return '/audit';
  return '/me';
};

export const feature: Feature = {
  routes: [
    // Decided once the session is known (the router's guard awaits it first): a redirect would be decided before,
    // with no roles yet, and send everyone to /me.
    { path: '/', name: 'home', component: NotFound, beforeEnter: () => startPage() },
    {
      path: '/forbidden',
      name: 'forbidden',
      component: NotFound,
      props: { forbidden: true },
      meta: { title: 'app.forbidden' },
    },
  ],
};
