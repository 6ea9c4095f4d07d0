import type { Feature } from '../../features';
import MeView from './MeView.vue';

export const feature: Feature = {
  routes: [{ path: '/me', name: 'me', component: MeView, meta: { title: 'profile.title' } }],
};
