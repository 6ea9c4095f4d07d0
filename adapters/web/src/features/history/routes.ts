import type { Feature } from '../../features';
import HistoryView from './HistoryView.vue';

/** Histories of a meeting or a series: open to whoever the API lets read them (staff, auditors, its participants). */
export const feature: Feature = {
  routes: [
    {
      path: '/sessions/:id/history',
      name: 'session-history',
      component: HistoryView,
      props: (route) => ({ kind: 'meeting', id: String(route.params.id) }),
      meta: { title: 'history.meetingTitle' },
    },
    {
      path: '/series/:id/history',
      name: 'series-history',
      component: HistoryView,
      props: (route) => ({ kind: 'series', id: String(route.params.id) }),
      meta: { title: 'history.seriesTitle' },
    },
  ],
};
