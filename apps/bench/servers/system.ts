import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/lib/Either.js';
import { loadConfig } from '../../config.ts';
import { startSystem } from '../../compose.ts';
import * as meeting from '../../../domain/meeting.ts';
import { failChild, serveChild, settledMemory } from '../child.ts';
import { summarize, timeSync } from '../stats.ts';

/**
 * The real server (startSystem) in its own process, configured from the environment the bench passes;
 * BENCH_BOOKING_SCHEDULES=off runs the booking baseline (the read-model check only, as one node did before).
 */
const system = await startSystem(loadConfig(process.env), {
  bookingSchedules: process.env.BENCH_BOOKING_SCHEDULES !== 'off',
}).catch(failChild);

interface SeedArgs {
  readonly count: number;
  readonly users: number;
  readonly fromMs: number;
  readonly toMs: number;
  readonly prefix: string;
}

const actor = { id: 'bench-admin', roles: ['admin' as const] };

/** Meetings of other people, appended straight to the store as the service would (decided, one stream each). */
const seedOthers = async (args: SeedArgs) => {
  const started = performance.now();
  const slotMs = Math.floor((args.toMs - args.fromMs) / Math.max(1, Math.ceil(args.count / args.users)));
  const appends: Array<Promise<unknown>> = [];
  let lastPosition = 0;
  const CHUNK = 500;
  for (let i = 0; i < args.count; i++) {
    const pairIndex = i % args.users;
    const round = Math.floor(i / args.users);
    const start = new Date(args.fromMs + round * slotMs + (pairIndex % 8) * 3_600_000);
    const meetingId = randomUUID();
    const at = new Date().toISOString();
    const decided = meeting.decide(
      {
        type: 'ScheduleMeeting',
        data: {
          meetingId,
          title: `Session ${i}`,
          customerId: `${args.prefix}-customer-${pairIndex}`,
          instructorId: `${args.prefix}-instructor-${pairIndex}`,
          start: start.toISOString(),
          end: new Date(start.getTime() + 45 * 60_000).toISOString(),
          timezone: 'Europe/Amsterdam',
          trainingType: '1-1',
          description: 'Strength training, bring water.',
          at,
          by: actor,
        },
      },
      meeting.initialState(),
    );
    if (E.isLeft(decided)) throw new Error(`seed meeting refused: ${JSON.stringify(decided.left)}`);
    appends.push(
      system.store
        .appendToStream(
          meeting.meetingStreamName(meetingId),
          decided.right.map((event) => ({ id: randomUUID(), type: event.type, data: event.data, metadata: { actor } })),
          { expectedRevision: 'no_stream' },
        )
        .then((result) => {
          if (E.isLeft(result)) throw new Error(`seed append refused: ${JSON.stringify(result.left)}`);
          lastPosition = Math.max(lastPosition, result.right.position);
        }),
    );
    if (appends.length >= CHUNK) await Promise.all(appends.splice(0));
  }
  await Promise.all(appends);
  const appended = performance.now();
  await system.projections.waitFor(lastPosition, 600_000);
  const projected = performance.now();
  return {
    count: args.count,
    appendMs: appended - started,
    projectMs: projected - appended,
    totalMs: projected - started,
  };
};

const calendarTiming = (args: { userId: string; from: string; to: string; iterations: number }) => {
  let items = 0;
  const samples = timeSync(() => {
    items = system.readModels.calendar(args.userId, args.from, args.to).length;
  }, args.iterations);
  return { items, ...summarize(samples) };
};

serveChild(
  { url: system.url, port: system.port },
  {
    seedOthers: (args) => seedOthers(args as SeedArgs),
    calendarTiming: (args) => calendarTiming(args as { userId: string; from: string; to: string; iterations: number }),
    memory: () => settledMemory(),
    headPosition: () => system.store.headPosition(),
    // The read models have caught up with everything appended so far (what a measured window waits for at its end).
    settle: async () => system.projections.waitFor(await system.store.headPosition(), 120_000),
  },
  () => system.close(),
);
