import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { expandRecurrence, parseRecurrence } from '../../domain/recurrence.ts';
import type { RecurrenceError, RecurrenceInput } from '../../domain/recurrence.ts';

/**
 * Series expansion against python-dateutil + zoneinfo. The vectors are made by
 * tests/domain/fixtures/generate-rrule-vectors.py (its header says what is drawn and which semantics the expected
 * values follow); this test needs no Python.
 */

type Outcome =
  | { readonly ok: true; readonly occurrences: ReadonlyArray<readonly [string, string]> }
  | { readonly ok: false; readonly errors: ReadonlyArray<RecurrenceError> };

interface Vector {
  readonly name?: string;
  readonly input: RecurrenceInput;
  readonly expected: Outcome;
}

interface Fixture {
  readonly reference: string;
  readonly vectors: ReadonlyArray<Vector>;
}

const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Fixture;
const fixture = load('rrule-vectors.json');
/** BYSETPOS rules shaped to pass the service's limits, so picked days rather than refusals are compared. */
const setposFixture = load('rrule-setpos-vectors.json');

const isoSeconds = (d: Date) => d.toISOString().replace('.000Z', 'Z');

/** What the service does with the input: its refusal, or [localDate, start] per occurrence (end checked here). */
const outcome = (input: RecurrenceInput): Outcome => {
  const parsed = parseRecurrence(input);
  if (E.isLeft(parsed)) return { ok: false, errors: parsed.left };
  const occurrences = expandRecurrence(parsed.right);
  for (const o of occurrences) {
    expect(o.end.getTime() - o.start.getTime(), `${JSON.stringify(input)} ${o.localDate}`).toBe(
      input.durationMinutes * 60_000,
    );
  }
  return { ok: true, occurrences: occurrences.map((o) => [o.localDate, isoSeconds(o.start)] as const) };
};

const named = fixture.vectors.filter((v) => v.name !== undefined);
const drawn = fixture.vectors.filter((v) => v.name === undefined);

describe(`series expansion agrees with ${fixture.reference}`, () => {
  it('the fixture covers accepted and refused rules of every FREQ, BYSETPOS and DST-adjacent starts', () => {
    expect(drawn.length).toBeGreaterThanOrEqual(900);
    for (const freq of ['YEARLY', 'MONTHLY', 'WEEKLY', 'DAILY']) {
      const of = drawn.filter((v) => v.input.rrule.includes(`FREQ=${freq}`));
      expect(of.filter((v) => v.expected.ok).length, freq).toBeGreaterThan(50);
      expect(of.filter((v) => !v.expected.ok).length, freq).toBeGreaterThan(10);
    }
    expect(drawn.filter((v) => v.input.rrule.includes('BYSETPOS') && v.expected.ok).length).toBeGreaterThan(30);
    for (const freq of ['YEARLY', 'MONTHLY', 'WEEKLY']) {
      const of = setposFixture.vectors.filter((v) => v.input.rrule.includes(`FREQ=${freq}`) && v.expected.ok);
      expect(of.length, `accepted BYSETPOS rules with FREQ=${freq}`).toBeGreaterThan(30);
    }
  });

  it.each(named.map((v) => [v.name as string, v] as const))('%s', (_name, v) => {
    expect(outcome(v.input)).toEqual(v.expected);
  });

  it.each([
    [`${drawn.length} random rules, zones and DST-adjacent starts`, drawn],
    [`${setposFixture.vectors.length} random BYSETPOS rules`, setposFixture.vectors],
  ] as const)('%s', (_label, vectors) => {
    const mismatches: string[] = [];
    for (const v of vectors) {
      const got = outcome(v.input);
      if (JSON.stringify(got) !== JSON.stringify(v.expected)) {
        mismatches.push(
          `${JSON.stringify(v.input)}\n  expected ${JSON.stringify(v.expected)}\n  got      ${JSON.stringify(got)}`,
        );
      }
    }
    expect(mismatches.length, mismatches.slice(0, 5).join('\n')).toBe(0);
  });
});
