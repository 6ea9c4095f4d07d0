import type { Feature } from '../../features';
import SessionView from './SessionView.vue';

export const feature: Feature = {
  routes: [{ path: '/sessions/:id', name: 'session', component: SessionView, meta: { title: 'session.title' } }],
};
