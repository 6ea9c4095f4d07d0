import type { Feature } from '../../features';
import SignInView from './SignInView.vue';

export const feature: Feature = {
  routes: [{ path: '/sign-in', name: 'sign-in', component: SignInView, meta: { public: true, title: 'signIn.title' } }],
};
