import type { Feature } from '../../features';
import ScheduleView from './ScheduleView.vue';
import NewSessionView from './NewSessionView.vue';

export const feature: Feature = {
  routes: [
    {
      path: '/schedule',
      name: 'schedule',
      component: ScheduleView,
      meta: { roles: ['instructor', 'admin'], title: 'schedule.title' },
    },
    {
      path: '/sessions/new',
      name: 'session-new',
      component: NewSessionView,
      meta: { roles: ['instructor', 'admin'], title: 'newSession.title' },
    },
  ],
  // Staff schedule for any trainer from here too (the page asks which trainer).
  nav: [{ to: '/schedule', label: 'schedule.nav', roles: ['instructor', 'admin'], order: 20 }],
};
