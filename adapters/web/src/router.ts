import { createRouter, createWebHistory } from 'vue-router';
import { features } from './features';
import { i18n } from './i18n';
import { session } from './session';
import NotFound from './components/NotFound.vue';

/** vue-i18n's `t` with its deep key types set aside: route titles are plain keys. */
const translate = (key: string): string => (i18n.global as unknown as { t: (k: string) => string }).t(key);

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [
    ...features.flatMap((f) => f.routes),
    { path: '/:rest(.*)*', name: 'not-found', component: NotFound, meta: { public: true, title: 'app.notFound' } },
  ],
  scrollBehavior: () => ({ top: 0 }),
});

router.beforeEach(async (to) => {
  if (to.meta.public === true) return true;
  if (!(await session.start())) return { name: 'sign-in', query: { next: to.fullPath } };
  const roles = to.meta.roles;
  if (roles !== undefined && !session.hasRole(...roles)) return { name: 'forbidden' };
  return true;
});

// Every view names itself in the title, and focus moves to the new view's heading for screen-reader users.
router.afterEach((to) => {
  const t = translate;
  const title = to.meta.title === undefined ? undefined : t(to.meta.title);
  document.title = title === undefined ? t('app.name') : `${title} · ${t('app.name')}`;
  setTimeout(() => document.querySelector<HTMLElement>('main h1')?.focus({ preventScroll: true }), 0);
});
