import type { Feature } from '../../features';
import NewSeriesView from './NewSeriesView.vue';
import SeriesView from './SeriesView.vue';

export const feature: Feature = {
  routes: [
    {
      path: '/series/new',
      name: 'series-new',
      component: NewSeriesView,
      meta: { roles: ['instructor', 'admin'], title: 'series.newTitle' },
    },
    { path: '/series/:id', name: 'series', component: SeriesView, meta: { title: 'series.title' } },
  ],
};
