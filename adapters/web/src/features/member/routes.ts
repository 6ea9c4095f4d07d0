import type { Feature } from '../../features';
import SessionsView from './SessionsView.vue';

export const feature: Feature = {
  routes: [
    {
      path: '/sessions',
      name: 'sessions',
      component: SessionsView,
      meta: { roles: ['customer'], title: 'member.title' },
    },
  ],
  nav: [{ to: '/sessions', label: 'member.nav', roles: ['customer'], order: 10 }],
};
