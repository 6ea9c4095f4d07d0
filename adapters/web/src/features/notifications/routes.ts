import type { Feature } from '../../features';
import NotificationsView from './NotificationsView.vue';

export const feature: Feature = {
  routes: [
    {
      path: '/notifications',
      name: 'notifications',
      component: NotificationsView,
      meta: { roles: ['admin', 'auditor'], title: 'notifications.title' },
    },
  ],
  nav: [{ to: '/notifications', label: 'notifications.nav', roles: ['admin', 'auditor'], order: 80 }],
};
