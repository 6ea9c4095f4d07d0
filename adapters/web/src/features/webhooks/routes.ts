import type { Feature } from '../../features';
import WebhooksView from './WebhooksView.vue';

export const feature: Feature = {
  routes: [
    {
      path: '/webhooks',
      name: 'webhooks',
      component: WebhooksView,
      meta: { roles: ['admin'], title: 'webhooks.title' },
    },
  ],
  nav: [{ to: '/webhooks', label: 'webhooks.nav', roles: ['admin'], order: 85 }],
};
