import type { RouteRecordRaw } from 'vue-router';
import type { Role } from './session';

/** A link in the main navigation, shown to people with one of `roles` (every signed-in person when absent). */
export interface NavItem {
  readonly to: string;
  /** An i18n key. */
  readonly label: string;
  readonly roles?: ReadonlyArray<Role>;
  /** Lower first. */
  readonly order: number;
}

/**
 * A feature folder's contribution (`features/<name>/routes.ts` exports `feature`): its routes (under /app/) and its
 * navigation links. A route's `meta.roles` limits it to those roles; `meta.public` opens it without a session.
 */
export interface Feature {
  readonly routes: ReadonlyArray<RouteRecordRaw>;
  readonly nav?: ReadonlyArray<NavItem>;
}

declare module 'vue-router' {
  interface RouteMeta {
    roles?: ReadonlyArray<Role>;
    public?: boolean;
    /** An i18n key for the document title. */
    title?: string;
  }
}

const modules = import.meta.glob<Feature>('./features/*/routes.ts', { eager: true, import: 'feature' });
export const features: ReadonlyArray<Feature> = Object.values(modules);
export const navItems: ReadonlyArray<NavItem> = features.flatMap((f) => f.nav ?? []).sort((a, b) => a.order - b.order);
