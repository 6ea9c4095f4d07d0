import type { Feature } from '../../features';
import AuditView from './AuditView.vue';

export const feature: Feature = {
  routes: [
    {
      path: '/audit',
      name: 'audit',
      component: AuditView,
      meta: { roles: ['admin', 'auditor'], title: 'audit.title' },
    },
  ],
  nav: [{ to: '/audit', label: 'audit.nav', roles: ['admin', 'auditor'], order: 90 }],
};
