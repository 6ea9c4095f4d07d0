import type { Feature } from '../../features';
import BranchView from './BranchView.vue';

export const feature: Feature = {
  routes: [
    {
      path: '/branch',
      name: 'branch',
      component: BranchView,
      meta: { roles: ['admin', 'auditor'], title: 'branch.title' },
    },
  ],
  nav: [{ to: '/branch', label: 'branch.nav', roles: ['admin', 'auditor'], order: 5 }],
};
