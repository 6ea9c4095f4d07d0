import type { Feature } from '../../features';
import { storeLink, tokenOfFragment } from './link';
import CallView from './CallView.vue';

/**
 * `/app/call/:meetingId`, public: a member opening an emailed or feed link is not signed in. A `#link=` (or legacy
 * `#token=`) fragment is kept for this meeting and taken out of the address bar (and history) before the page shows.
 */
export const feature: Feature = {
  routes: [
    {
      path: '/call/:meetingId',
      name: 'call',
      component: CallView,
      meta: { public: true, title: 'call.title' },
      beforeEnter: (to) => {
        if (to.hash === '') return true;
        const token = tokenOfFragment(to.hash);
        if (token !== undefined) storeLink(String(to.params.meetingId), token);
        return { path: to.path, query: to.query, hash: '', replace: true };
      },
    },
  ],
};
