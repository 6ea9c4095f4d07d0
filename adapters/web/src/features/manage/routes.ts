import type { Feature } from '../../features';
import ManageSessionView from './ManageSessionView.vue';

export const feature: Feature = {
  routes: [
    {
      path: '/sessions/:id/manage',
      name: 'session-manage',
      component: ManageSessionView,
      meta: { roles: ['instructor', 'admin'], title: 'manage.title' },
    },
  ],
};
