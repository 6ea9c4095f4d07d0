import * as E from 'fp-ts/lib/Either.js';
import * as fc from 'fast-check';
import * as t from 'io-ts';
import { describe, expect, it } from 'vitest';
import { createDeriver } from '../../../adapters/http/openapi/derive.ts';
import type { Json } from '../../../adapters/http/openapi/derive.ts';
import { fieldErrors } from '../../../adapters/http/validation.ts';
import { annotate, notesOf } from '../../../domain/annotate.ts';
import { LIMITS, MeetingEvent, meetingRequiredFields, meetingOptionalFields } from '../../../domain/meeting.ts';
import { RecurrenceSpec, SeriesEvent } from '../../../domain/series.ts';
import { Settings, defaultSettings } from '../../../domain/settings.ts';
import { IsoInstant } from '../../../domain/shared.ts';
import { createSchemaChecker } from '../../support/json-schema.ts';

/** The schema of a codec, checked with Ajv against the components the derivation made along the way. */
const derived = (codec: t.Any) => {
  const deriver = createDeriver();
  const schema = deriver.schema(codec);
  const checker = createSchemaChecker({ components: { schemas: deriver.components() } });
  return { schema, components: deriver.components(), fits: (value: unknown) => checker.validate(schema, value) };
};

describe('annotate', () => {
  it('adds notes to a copy that decodes, names and fails exactly as the original', () => {
    const bounded = annotate(t.string, { maxLength: 3, description: 'short' });
    expect(bounded).not.toBe(t.string);
    expect(notesOf(bounded)).toEqual({ maxLength: 3, description: 'short' });
    expect(notesOf(t.string)).toBeUndefined();
    expect(bounded.name).toBe('string');
    expect((bounded as unknown as { _tag: string })._tag).toBe('StringType');
    const body = t.type({ a: bounded, b: annotate(t.array(t.number), { maxItems: 2 }) });
    const plain = t.type({ a: t.string, b: t.array(t.number) });
    for (const value of [{ a: 'x', b: [1] }, { a: 1, b: ['x'] }, {}, null]) {
      const [left, right] = [body.decode(value), plain.decode(value)];
      expect(E.isRight(left)).toBe(E.isRight(right));
      if (E.isLeft(left) && E.isLeft(right)) expect(fieldErrors(left.left)).toEqual(fieldErrors(right.left));
    }
  });

  it('keeps the notes of what it copies, and a named codec stays one schema however it is annotated where used', () => {
    const named = annotate(t.keyof({ a: null, b: null }), { name: 'AB', description: 'a or b' });
    const used = annotate(named, { description: 'here it means this' });
    const { schema, components } = derived(t.type({ x: named, y: used }));
    expect(schema.properties).toEqual({
      x: { $ref: '#/components/schemas/AB' },
      y: { $ref: '#/components/schemas/AB', description: 'here it means this' },
    });
    expect(components).toEqual({ AB: { type: 'string', enum: ['a', 'b'], description: 'a or b' } });
    expect(notesOf(annotate(annotate(t.string, { maxLength: 1 }), { minLength: 1 }))).toEqual({
      maxLength: 1,
      minLength: 1,
    });
  });
});

describe('the io-ts → JSON Schema derivation', () => {
  it('maps each codec kind to its schema', () => {
    const cases: Array<[t.Any, Json]> = [
      [t.string, { type: 'string' }],
      [t.number, { type: 'number' }],
      [t.boolean, { type: 'boolean' }],
      [t.null, { type: 'null' }],
      [t.Int, { type: 'integer' }],
      [t.literal('x'), { type: 'string', const: 'x' }],
      [t.literal(3), { type: 'integer', const: 3 }],
      [t.keyof({ a: null, b: null }), { type: 'string', enum: ['a', 'b'] }],
      [t.union([t.literal('a'), t.literal('b')]), { type: 'string', enum: ['a', 'b'] }],
      [t.union([t.string, t.number]), { anyOf: [{ type: 'string' }, { type: 'number' }] }],
      [t.array(t.string), { type: 'array', items: { type: 'string' } }],
      [t.readonlyArray(t.number), { type: 'array', items: { type: 'number' } }],
      [t.UnknownArray, { type: 'array' }],
      [t.UnknownRecord, { type: 'object' }],
      [t.record(t.string, t.number), { type: 'object', additionalProperties: { type: 'number' } }],
      [
        t.type({ a: t.string }),
        { type: 'object', required: ['a'], properties: { a: { type: 'string' } }, additionalProperties: false },
      ],
      [
        t.partial({ a: t.string }),
        { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
      ],
      [
        t.exact(t.type({ a: t.string })),
        { type: 'object', required: ['a'], properties: { a: { type: 'string' } }, additionalProperties: false },
      ],
      [
        t.strict({ a: t.string }),
        { type: 'object', required: ['a'], properties: { a: { type: 'string' } }, additionalProperties: false },
      ],
      [
        t.readonly(t.type({ a: t.string })),
        { type: 'object', required: ['a'], properties: { a: { type: 'string' } }, additionalProperties: false },
      ],
      [
        t.intersection([t.type({ a: t.string }), t.partial({ b: t.number })]),
        {
          type: 'object',
          required: ['a'],
          properties: { a: { type: 'string' }, b: { type: 'number' } },
          additionalProperties: false,
        },
      ],
      [
        t.intersection([t.string, annotate(t.string, { minLength: 1 })]),
        { allOf: [{ type: 'string' }, { type: 'string', minLength: 1 }] },
      ],
      [t.refinement(t.string, (s) => s.length > 0, 'NonEmpty'), { type: 'string' }],
      [
        annotate(
          t.brand(t.number, (n): n is t.Branded<number, { readonly Pos: unique symbol }> => n >= 1, 'Pos'),
          { minimum: 1 },
        ),
        { type: 'number', minimum: 1 },
      ],
      [annotate(t.number, { type: 'integer', minimum: 1 }), { type: 'integer', minimum: 1 }],
      [annotate(t.unknown, { description: 'anything' }), { description: 'anything' }],
    ];
    for (const [codec, schema] of cases) expect(createDeriver().schema(codec), codec.name).toEqual(schema);
  });

  it('tells a union of objects apart by a literal field, with a mapping when its members are named', () => {
    const A = annotate(t.type({ mode: t.literal('a'), x: t.string }), { name: 'A' });
    const B = annotate(t.type({ mode: t.literal('b') }), { name: 'B' });
    expect(createDeriver().schema(t.union([A, B]))).toEqual({
      oneOf: [{ $ref: '#/components/schemas/A' }, { $ref: '#/components/schemas/B' }],
      discriminator: { propertyName: 'mode', mapping: { a: '#/components/schemas/A', b: '#/components/schemas/B' } },
    });
    expect(createDeriver().schema(t.union([t.type({ k: t.literal(1) }), t.type({ k: t.literal(2) })]))).toEqual({
      oneOf: [
        {
          type: 'object',
          required: ['k'],
          properties: { k: { type: 'integer', const: 1 } },
          additionalProperties: false,
        },
        {
          type: 'object',
          required: ['k'],
          properties: { k: { type: 'integer', const: 2 } },
          additionalProperties: false,
        },
      ],
    });
  });

  it('fails loudly on a codec it cannot describe, rather than allowing anything', () => {
    const handMade = new t.Type<string, string, unknown>('HandMade', t.string.is, t.string.validate, t.identity);
    for (const codec of [
      handMade,
      t.unknown,
      t.undefined,
      t.void,
      t.tuple([t.string]),
      t.recursion<string>('R', () => t.string),
    ])
      expect(() => createDeriver().schema(t.type({ field: codec as t.Any })), codec.name).toThrow(/cannot derive/);
    expect(createDeriver().schema(annotate(handMade, { type: 'string', format: 'date' }))).toEqual({
      type: 'string',
      format: 'date',
    });
    const deriver = createDeriver();
    deriver.schema(annotate(t.string, { name: 'Twice' }));
    expect(() => deriver.schema(annotate(t.number, { name: 'Twice' }))).toThrow(/two different codecs/);
  });
});

describe('derived schemas agree with their codecs', () => {
  const at = '2026-03-02T10:00:00.000Z';
  const by = { id: 'ada', roles: ['admin'] };
  const scheduled = {
    type: 'MeetingScheduled',
    data: {
      meetingId: 'm1',
      title: 'Intro',
      customerId: 'c1',
      instructorId: 'i1',
      start: at,
      end: '2026-03-02T11:00:00.000Z',
      timezone: 'Europe/Amsterdam',
      trainingType: 'link',
      remoteLink: 'https://meet.example.com/x',
      description: '',
      customerMetadata: '',
      instructorMetadata: '',
      at,
      by,
    },
  };
  const spec = {
    rrule: 'FREQ=WEEKLY;COUNT=3',
    startDate: '2026-03-02',
    startTime: '09:30',
    durationMinutes: 45,
    timezone: 'UTC',
    exclusions: ['2026-03-09'],
  };
  const meetingBody = t.intersection([t.type(meetingRequiredFields), t.partial(meetingOptionalFields)]);
  const { remoteLink: _link, ...unlinked } = scheduled.data;
  const cases: Array<{ codec: t.Any; valid: unknown[]; invalid: unknown[] }> = [
    {
      codec: IsoInstant,
      valid: [at, '2026-03-02T10:00:00+05:30'],
      invalid: ['2026-03-02T10:00:00', '2026-03-02', 12, null],
    },
    {
      codec: MeetingEvent,
      valid: [scheduled, { type: 'MeetingConfirmed', data: { meetingId: 'm1', at, by } }],
      invalid: [
        { type: 'MeetingConfirmed', data: { at, by } },
        { type: 'MeetingConfirmed', data: { meetingId: 'm1', at: 'yesterday', by } },
        { type: 'MeetingConfirmed', data: { meetingId: 'm1', at, by: { id: 'a', roles: ['boss'] } } },
        { type: 'MeetingSomething', data: { meetingId: 'm1', at, by } },
        { ...scheduled, data: { ...scheduled.data, trainingType: 'video' } },
        { ...scheduled, data: unlinked, type: 'MeetingRescheduled' },
      ],
    },
    {
      codec: SeriesEvent,
      valid: [
        {
          type: 'SeriesRecurrenceChanged',
          data: { seriesId: 's', recurrence: spec, previous: spec, added: [], moved: [], removed: [], at, by },
        },
      ],
      invalid: [
        {
          type: 'SeriesRecurrenceChanged',
          data: { seriesId: 's', recurrence: spec, previous: {}, added: [], moved: [], removed: [], at, by },
        },
      ],
    },
    {
      codec: RecurrenceSpec,
      valid: [spec, { ...spec, exclusions: [] }],
      invalid: [
        { ...spec, durationMinutes: '45' },
        { ...spec, exclusions: '2026-03-09' },
        { ...spec, rrule: undefined },
      ],
    },
    {
      codec: Settings,
      valid: [defaultSettings, { ...defaultSettings, debugLevel: 3 }],
      invalid: [
        { ...defaultSettings, debugLevel: 'high' },
        { notifications: {}, debugLevel: 0 },
      ],
    },
    {
      codec: meetingBody,
      valid: [{ title: 'x', customerId: 'c', instructorId: 'i', start: at, end: at, trainingType: '1-1' }],
      invalid: [{ title: 'x', customerId: 'c', instructorId: 'i', start: at, end: at }, { title: 1 }],
    },
  ];

  it('accept what the codec accepts and refuse what it refuses', () => {
    for (const { codec, valid, invalid } of cases) {
      const { fits } = derived(codec);
      for (const value of valid) {
        expect(E.isRight(codec.decode(value)), `${codec.name} decodes ${JSON.stringify(value)}`).toBe(true);
        expect(fits(value), `${codec.name} schema takes ${JSON.stringify(value)}`).toEqual([]);
      }
      for (const value of invalid) {
        expect(E.isLeft(codec.decode(value)), `${codec.name} refuses ${JSON.stringify(value)}`).toBe(true);
        expect(fits(value), `${codec.name} schema refuses ${JSON.stringify(value)}`).not.toEqual([]);
      }
    }
  });

  it('carry the limits the domain checks, from the same constants', () => {
    const { fits } = derived(meetingBody);
    const body = { title: 'x', customerId: 'c', instructorId: 'i', start: at, end: at, trainingType: '1-1' };
    expect(fits({ ...body, title: 'x'.repeat(LIMITS.title) })).toEqual([]);
    expect(fits({ ...body, title: 'x'.repeat(LIMITS.title + 1) })).not.toEqual([]);
    expect(fits({ ...body, description: 'x'.repeat(LIMITS.description + 1) })).not.toEqual([]);
    expect(fits({ ...body, customerMetadata: 'x'.repeat(LIMITS.metadata + 1) })).not.toEqual([]);
    expect(fits({ ...body, customerId: 'x'.repeat(LIMITS.id + 1) })).not.toEqual([]);
    expect(fits({ ...body, customerId: 'a\u202Eb' })).not.toEqual([]);
    expect(fits({ ...body, remoteLink: `https://x.example/${'x'.repeat(LIMITS.remoteLink)}` })).not.toEqual([]);
    expect(fits({ ...body, strat: at })).not.toEqual([]);
  });
});

describe('the request bodies of the document', () => {
  // A body the document accepts is never refused when it is decoded: for bodies made of good and bad field values,
  // whatever fits the schema decodes (the domain's rules may still refuse it, with their own 400).
  it('never promise what the codec refuses', () => {
    const good = {
      title: fc.constantFrom('Intro', 'x'.repeat(LIMITS.title)),
      customerId: fc.constantFrom('c1', 'cust-42'),
      instructorId: fc.constantFrom('i1', 'inst-7'),
      start: fc.constantFrom('2026-03-02T10:00:00Z', '2026-03-02T10:00:00.123+01:00'),
      end: fc.constantFrom('2026-03-02T11:00:00Z'),
      trainingType: fc.constantFrom('1-1', 'link'),
      remoteLink: fc.constantFrom('https://meet.example.com/x'),
      timezone: fc.constantFrom('UTC', 'Europe/Amsterdam'),
    };
    const bad = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant('2026-02-30T10:00:00Z'),
      fc.constant({}),
    );
    const field = (arb: fc.Arbitrary<unknown>) =>
      fc.option(fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: bad }), { nil: undefined });
    const bodies = fc.record(
      Object.fromEntries(Object.entries(good).map(([k, arb]) => [k, field(arb)])) as Record<
        string,
        fc.Arbitrary<unknown>
      >,
    );
    const meetingBody = t.intersection([
      t.type(meetingRequiredFields),
      t.partial({ timezone: t.string, ...meetingOptionalFields }),
    ]);
    const { fits } = derived(meetingBody);
    let accepted = 0;
    fc.assert(
      fc.property(bodies, (raw) => {
        const value = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined));
        if (fits(value).length === 0) {
          accepted += 1;
          expect(E.isRight(meetingBody.decode(value)), JSON.stringify(value)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
    expect(accepted).toBeGreaterThan(0);
  });
});
