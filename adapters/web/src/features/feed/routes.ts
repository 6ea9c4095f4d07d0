import type { Feature } from '../../features';
import FeedView from './FeedView.vue';

const roles = ['customer', 'instructor', 'admin'] as const;

export const feature: Feature = {
  routes: [{ path: '/feed', name: 'feed', component: FeedView, meta: { roles, title: 'feed.title' } }],
  nav: [{ to: '/feed', label: 'feed.nav', roles, order: 80 }],
};
