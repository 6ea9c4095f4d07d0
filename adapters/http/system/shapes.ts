import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';

const Count = (notes: { minimum: number; description?: string }) => annotate(t.number, { type: 'integer', ...notes });

/** `GET /health`: the store, the projections (and reactions) with their lag, and the HTTP counters. */
export const HealthShape = annotate(
  t.type({
    status: t.keyof({ ok: null, degraded: null }),
    ready: annotate(t.boolean, {
      description:
        'Writes are taken: every read model has caught up with the log head as of the start (or the last projection ' +
        'error). Until then writes answer 503 with `Retry-After` and append nothing; reads are answered.',
    }),
    catchingUp: annotate(t.boolean, {
      description:
        'The read models are still behind the log head as of the start (a new node, a deleted or old read-model file).',
    }),
    node: annotate(
      t.type({
        id: annotate(t.string, {
          description: "This node's id (kept in its READ_MODELS_DIR; not a secret): which node of several answered.",
        }),
        caughtUp: annotate(t.boolean, {
          description:
            "Every read model of this node has applied the log head as the store tells it now (lag 0): this node's " +
            'reads show every write made through any node so far.',
        }),
      }),
      {
        description:
          'Health is per node: each node behind a load balancer answers for itself, its read models and its view of the store.',
      },
    ),
    store: t.type({
      name: annotate(t.string, { description: 'Which event store is in use (`sqlite`, `kurrentdb`).' }),
      status: annotate(t.keyof({ ok: null, unreachable: null, reconnecting: null, down: null }), {
        description:
          "`ok`; `unreachable` when the store did not answer in time; KurrentDB's connection state otherwise.",
      }),
    }),
    projections: annotate(
      t.record(
        t.string,
        t.intersection([
          t.type({ position: Count({ minimum: 0 }), lag: Count({ minimum: 0 }) }),
          t.partial({
            error: annotate(t.string, { description: 'Why it stopped.' }),
            parked: Count({
              minimum: 1,
              description:
                'Reactions only: cancellations left behind since start because their notices can never be stored ' +
                '(each is logged as an error); later ones go on.',
            }),
          }),
        ]),
      ),
      {
        description:
          'Per read model, for the cancellation-notice reaction (`cancellation-notices`) and for the reminder planner ' +
          '(`reminder-planner`): its checkpoint in the ' +
          'global log, how far behind the head it is, and why it stopped if it did.',
      },
    ),
    signaling: annotate(
      t.type({
        bus: annotate(t.string, {
          description: 'Where call rooms live: `in-process` (this node only) or `redis` (shared by every node).',
        }),
        status: annotate(t.keyof({ ok: null, connecting: null, down: null }), {
          description:
            '`ok`; `connecting` before Redis first answered; `down` while it does not (joins are closed with 1013, ' +
            'calls already paired go on). Does not degrade `status`: the API serves without it.',
        }),
      }),
      { description: 'The signaling bus.' },
    ),
    http: t.type({
      clientAborts: Count({
        minimum: 0,
        description:
          'Requests whose client closed the connection before its body had arrived (a dropped upload), since this ' +
          'process started. They are no server errors: logged at debug with status 499, never as a 500.',
      }),
    }),
  }),
  {
    name: 'Health',
    description: '`ok` needs a reachable store and running projections that have caught up (`ready`).',
    allOf: [
      {
        if: { properties: { status: { const: 'ok' } }, required: ['status'] },
        then: { properties: { store: { properties: { status: { const: 'ok' } } } } },
      },
    ],
  },
);
