import * as E from 'fp-ts/lib/Either.js';
import type { WebhookCommand } from '../../domain/webhook.ts';
import type { DeliveryStatus } from '../../domain/webhook-delivery.ts';
import { webhookDeliveries, webhooks } from '../aggregates.ts';
import { causedBy } from '../command-handler.ts';
import { actorOf, newIdFor } from '../execute.ts';
import type { Executor } from '../execute.ts';
import { isAdmin, readsAll } from '../ports/access.ts';
import type { DeliveryView, TargetPolicy, WebhookQueries, WebhookView } from '../ports/webhooks.ts';
import type { AppError, RequestContext } from '../service.ts';

export const MAX_DELIVERY_PAGE = 100;
export const DEFAULT_DELIVERY_PAGE = 50;
/** Endpoints one site may have. */
export const MAX_WEBHOOKS = 50;

export interface WebhookServiceDeps {
  readonly executor: Pick<Executor, 'execute' | 'load'>;
  readonly queries: WebhookQueries;
  readonly policy: TargetPolicy;
  readonly waitForProjections: (position: number | undefined) => Promise<void>;
  readonly schedule: (deliveryId: string, webhookId: string, at?: string) => void;
  readonly clock: () => Date;
  readonly newId: () => string;
  /** A new signing secret (`whsec_…`). */
  readonly newSecret: () => string;
  /** How long a rotated-out secret goes on signing. */
  readonly secretOverlapMs: number;
}

export interface WebhookInput {
  readonly url: string;
  readonly events: ReadonlyArray<string>;
  readonly description?: string;
}

export interface WebhookChange {
  readonly url?: string;
  readonly events?: ReadonlyArray<string>;
  readonly description?: string;
  readonly enabled?: boolean;
}

const forbidden: AppError = { _tag: 'Forbidden', message: 'only admins may manage webhooks' };
/** Auditors read endpoints and delivery logs (never a secret: no view holds one); only admins change anything. */
const notReader: AppError = { _tag: 'Forbidden', message: 'only admins and auditors may read webhooks' };
const notFound: AppError = { _tag: 'NotFound', message: 'webhook not found' };
const deliveryNotFound: AppError = { _tag: 'NotFound', message: 'delivery not found' };

const refusedUrl = (reason: string): AppError => ({
  _tag: 'ValidationFailed',
  errors: [{ path: 'url', message: reason }],
});

/** Register, list, read, change, delete, rotate: the endpoints themselves. */
const endpointOperations = (deps: WebhookServiceDeps) => {
  const stamp = (ctx: RequestContext) => ({ at: deps.clock().toISOString(), by: actorOf(ctx.user) });
  const viewAfter = async (id: string, position: number | undefined): Promise<E.Either<AppError, WebhookView>> => {
    await deps.waitForProjections(position);
    const view = deps.queries.getWebhook(id);
    return view === undefined ? E.left(notFound) : E.right(view);
  };
  const run = (ctx: RequestContext, id: string, command: WebhookCommand) =>
    deps.executor.execute(ctx, webhooks, id, command, { wait: false });

  return {
    async list(ctx: RequestContext): Promise<E.Either<AppError, ReadonlyArray<WebhookView>>> {
      if (!readsAll(ctx.user)) return E.left(notReader);
      return E.right(deps.queries.listWebhooks());
    },

    async get(ctx: RequestContext, id: string): Promise<E.Either<AppError, WebhookView>> {
      if (!readsAll(ctx.user)) return E.left(notReader);
      const view = deps.queries.getWebhook(id);
      return view === undefined ? E.left(notFound) : E.right(view);
    },

    /** The secret is in the answer, and nowhere else a client can read it again. */
    async register(
      ctx: RequestContext,
      input: WebhookInput,
    ): Promise<E.Either<AppError, WebhookView & { readonly secret: string }>> {
      if (!isAdmin(ctx.user)) return E.left(forbidden);
      const refused = deps.policy.refuse(input.url);
      if (refused !== undefined) return E.left(refusedUrl(refused));
      if (deps.queries.listWebhooks().length >= MAX_WEBHOOKS)
        return E.left({ _tag: 'Conflict', message: `at most ${MAX_WEBHOOKS} webhooks; delete one first` });
      const id = newIdFor(ctx, deps.newId);
      const secret = deps.newSecret();
      const result = await run(ctx, id, {
        type: 'RegisterWebhook',
        data: {
          webhookId: id,
          url: input.url,
          events: input.events,
          description: input.description,
          secret,
          ...stamp(ctx),
        },
      });
      if (E.isLeft(result)) return result;
      const state = result.right.state;
      const view = await viewAfter(id, result.right.position ?? result.right.seenPosition);
      // A re-run of a request cut short finds what it wrote: its secret, not the new one made now.
      return E.map((v: WebhookView) => ({ ...v, secret: 'secret' in state ? state.secret : secret }))(view);
    },

    async update(
      ctx: RequestContext,
      id: string,
      change: WebhookChange,
      expectedRevision?: number,
    ): Promise<E.Either<AppError, WebhookView>> {
      if (!isAdmin(ctx.user)) return E.left(forbidden);
      if (change.url !== undefined) {
        const refused = deps.policy.refuse(change.url);
        if (refused !== undefined) return E.left(refusedUrl(refused));
      }
      const result = await deps.executor.execute(
        ctx,
        webhooks,
        id,
        { type: 'UpdateWebhook', data: { ...change, ...stamp(ctx) } },
        { wait: false, ...(expectedRevision !== undefined ? { expectedRevision } : {}) },
      );
      if (E.isLeft(result)) return result;
      return viewAfter(id, result.right.position ?? result.right.seenPosition);
    },

    async remove(ctx: RequestContext, id: string): Promise<E.Either<AppError, void>> {
      if (!isAdmin(ctx.user)) return E.left(forbidden);
      const result = await run(ctx, id, { type: 'DeleteWebhook', data: stamp(ctx) });
      if (E.isLeft(result)) return result;
      await deps.waitForProjections(result.right.position ?? result.right.seenPosition);
      return E.right(undefined);
    },

    /** A new secret; the old one goes on signing (beside it) until `previousSecretValidUntil`. */
    async rotate(
      ctx: RequestContext,
      id: string,
    ): Promise<E.Either<AppError, { readonly secret: string; readonly previousSecretValidUntil: string }>> {
      if (!isAdmin(ctx.user)) return E.left(forbidden);
      const secret = deps.newSecret();
      const result = await run(ctx, id, {
        type: 'RotateWebhookSecret',
        data: { secret, overlapMs: deps.secretOverlapMs, ...stamp(ctx) },
      });
      if (E.isLeft(result)) return result;
      const state = result.right.state;
      const replaced = state.status === 'none' ? undefined : state.previous[0];
      if (state.status === 'none' || replaced === undefined) return E.left(notFound);
      await deps.waitForProjections(result.right.position ?? result.right.seenPosition);
      return E.right({ secret: state.secret, previousSecretValidUntil: replaced.validUntil });
    },
  };
};

/** The delivery log of an endpoint, and a delivery sent again. */
const deliveryOperations = (deps: WebhookServiceDeps) => {
  const stamp = (ctx: RequestContext) => ({ at: deps.clock().toISOString(), by: actorOf(ctx.user) });
  return {
    async deliveries(
      ctx: RequestContext,
      webhookId: string,
      filter: { status?: DeliveryStatus; before?: number; limit?: number },
    ): Promise<E.Either<AppError, { items: ReadonlyArray<DeliveryView>; next?: number }>> {
      if (!readsAll(ctx.user)) return E.left(notReader);
      if (deps.queries.getWebhook(webhookId) === undefined) return E.left(notFound);
      const limit = Math.min(MAX_DELIVERY_PAGE, Math.max(1, filter.limit ?? DEFAULT_DELIVERY_PAGE));
      const items = deps.queries.listDeliveries({ webhookId, status: filter.status, before: filter.before, limit });
      const last = items[items.length - 1];
      return E.right({ items, ...(items.length === limit && last !== undefined ? { next: last.position } : {}) });
    },

    /** Sends a delivered or failed delivery again: same `webhook-id`, same body, a new round of attempts. */
    async redeliver(
      ctx: RequestContext,
      webhookId: string,
      deliveryId: string,
    ): Promise<E.Either<AppError, DeliveryView>> {
      if (!isAdmin(ctx.user)) return E.left(forbidden);
      const endpoint = deps.queries.getWebhook(webhookId);
      if (endpoint === undefined) return E.left(notFound);
      if (!/^[0-9a-f]{32}$/.test(deliveryId)) return E.left(deliveryNotFound);
      const loaded = await deps.executor.load(webhookDeliveries, deliveryId);
      if (E.isLeft(loaded)) return loaded;
      const state = loaded.right.state;
      if (state.status === 'none' || state.webhookId !== webhookId) return E.left(deliveryNotFound);
      const earlier = causedBy(loaded.right.events, ctx.idempotency?.causation);
      if (earlier === undefined) {
        if (endpoint.status !== 'enabled')
          return E.left({
            _tag: 'Conflict',
            message: 'the webhook is disabled; enable it (PATCH) before sending again',
          });
        const result = await deps.executor.execute(
          ctx,
          webhookDeliveries,
          deliveryId,
          { type: 'RequestRedelivery', data: stamp(ctx) },
          { expectedRevision: loaded.right.revision, wait: false },
        );
        if (E.isLeft(result))
          return result.left._tag === 'StaleRevision'
            ? E.left({ _tag: 'Conflict', message: 'the delivery changed meanwhile; try again' })
            : result;
        await deps.waitForProjections(result.right.position);
        deps.schedule(deliveryId, webhookId);
      } else await deps.waitForProjections(earlier.position);
      const view = deps.queries.getDelivery(deliveryId);
      return view === undefined ? E.left(deliveryNotFound) : E.right(view);
    },
  };
};

/** Admins register, change, rotate and delete endpoints, read their delivery log, and send a delivery again. */
export const createWebhookService = (deps: WebhookServiceDeps) => ({
  ...endpointOperations(deps),
  ...deliveryOperations(deps),
});

export type WebhookService = ReturnType<typeof createWebhookService>;
