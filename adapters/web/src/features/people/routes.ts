import type { Feature } from '../../features';
import NewPersonView from './NewPersonView.vue';
import PeopleView from './PeopleView.vue';
import PersonView from './PersonView.vue';

export const feature: Feature = {
  routes: [
    {
      path: '/people',
      name: 'people',
      component: PeopleView,
      meta: { roles: ['admin', 'auditor'], title: 'people.title' },
    },
    {
      path: '/people/new',
      name: 'person-new',
      component: NewPersonView,
      meta: { roles: ['admin'], title: 'people.new' },
    },
    {
      path: '/people/:id',
      name: 'person',
      component: PersonView,
      meta: { roles: ['admin', 'auditor'], title: 'people.person.title' },
    },
  ],
  nav: [{ to: '/people', label: 'people.nav', roles: ['admin', 'auditor'], order: 60 }],
};
