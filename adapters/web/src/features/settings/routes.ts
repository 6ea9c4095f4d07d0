import type { Feature } from '../../features';
import SettingsView from './SettingsView.vue';

export const feature: Feature = {
  routes: [
    {
      path: '/settings',
      name: 'settings',
      component: SettingsView,
      meta: { roles: ['admin', 'auditor'], title: 'settings.title' },
    },
  ],
  nav: [{ to: '/settings', label: 'settings.nav', roles: ['admin', 'auditor'], order: 70 }],
};
