import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { createIcsFeedBuilder, foldIcsLines } from '../../../adapters/mail/ics.ts';
import type { CalendarFeed, FeedEvent } from '../../../application/calendar-feed.ts';
import { contactOf, parseCalendar } from '../../support/ical.ts';

const unfold = (ics: string): string[] =>
  ics
    .replace(/\r\n[ \t]/g, '')
    .split('\r\n')
    .filter((l) => l.length > 0);
const unescapeText = (value: string): string =>
  value.replace(/\\([\\;,nN])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));

/** Every physical line CRLF-terminated, at most 75 octets, and valid UTF-8 on its own (no split sequence). */
const expectWellFolded = (ics: string) => {
  expect(ics.endsWith('\r\n')).toBe(true);
  for (const line of ics.slice(0, -2).split('\r\n')) {
    const bytes = Buffer.from(line, 'utf8');
    expect(bytes.length, line).toBeLessThanOrEqual(75);
    expect(line).not.toMatch(/[\r\n\uFFFD]/);
    expect(new TextDecoder('utf-8', { fatal: true }).decode(bytes)).toBe(line);
  }
};

const event = (overrides: Partial<FeedEvent> = {}): FeedEvent => ({
  meetingId: 'm-1',
  title: 'Strength',
  start: '2030-03-02T15:00:00.000Z',
  end: '2030-03-02T16:00:00.000Z',
  state: 'planned',
  sequence: 0,
  updatedAt: '2030-03-01T09:30:00.000Z',
  role: 'customer',
  counterpartId: 'ivan',
  ...overrides,
});

const feed = (events: FeedEvent[], ownerName?: string): CalendarFeed => ({
  userId: 'cora',
  ...(ownerName !== undefined ? { ownerName } : {}),
  generatedAt: '2030-03-01T12:00:00.000Z',
  events,
});

const build = createIcsFeedBuilder({
  publicBaseUrl: () => 'https://coaching.example.com:8443',
  siteName: 'Virtual Y',
  sender: 'Virtual Y <no-reply@example.com>',
});

const render = (input: CalendarFeed): string => {
  const result = build(input);
  if (E.isLeft(result)) throw new Error(result.left);
  expectWellFolded(result.right);
  return result.right;
};

const events = (ics: string): Array<Map<string, string>> => {
  const found: Array<Map<string, string>> = [];
  let current: Map<string, string> | undefined;
  for (const line of unfold(ics)) {
    if (line === 'BEGIN:VEVENT') current = new Map();
    else if (line === 'END:VEVENT') {
      found.push(current!);
      current = undefined;
    } else if (current !== undefined) {
      const colon = line.indexOf(':');
      current.set(line.slice(0, colon), line.slice(colon + 1));
    }
  }
  return found;
};

describe('the ICS feed builder', () => {
  it('puts the owner’s join link, when there is one, in URL and DESCRIPTION, folded and read back whole', () => {
    const link = `https://coaching.example.com:8443/call?meeting=a#link=jl1.${'eyJzdWIiOi'.repeat(12)}.${'x'.repeat(43)}`;
    const ics = render(feed([event({ meetingId: 'a', joinLink: link }), event({ meetingId: 'b' })], 'Cora'));
    const [a, b] = events(ics);
    expect(a?.get('URL')).toBe(link);
    expect(unescapeText(a?.get('DESCRIPTION') ?? '')).toBe(`Instructor: ivan\nJoin: ${link}`);
    expect(b?.get('URL')).toBe('https://coaching.example.com:8443/call?meeting=b');
  });

  it('writes a PUBLISH calendar with its name and refresh hints, and one VEVENT per meeting', () => {
    const ics = render(
      feed(
        [
          event({ meetingId: 'a', state: 'planned', sequence: 0 }),
          event({
            meetingId: 'b',
            state: 'scheduled',
            sequence: 2,
            role: 'instructor',
            counterpartId: 'cora',
            counterpartName: 'Cora Customer',
          }),
          event({ meetingId: 'c', state: 'cancelled', sequence: 3 }),
        ],
        'Cora Customer',
      ),
    );
    const lines = unfold(ics);
    expect(lines.slice(0, 2)).toEqual(['BEGIN:VCALENDAR', 'VERSION:2.0']);
    expect(lines).toEqual(
      expect.arrayContaining([
        'METHOD:PUBLISH',
        'X-WR-CALNAME:Virtual Y: Cora Customer',
        'REFRESH-INTERVAL;VALUE=DURATION:PT1H',
        'X-PUBLISHED-TTL:PT1H',
      ]),
    );
    expect(lines.filter((l) => l === 'X-PUBLISHED-TTL:PT1H')).toHaveLength(1);
    // Calendar properties come before the first component.
    expect(lines.indexOf('REFRESH-INTERVAL;VALUE=DURATION:PT1H')).toBeLessThan(lines.indexOf('BEGIN:VEVENT'));
    const [a, b, c] = events(ics);
    expect(a?.get('UID')).toBe('a@coaching.example.com');
    expect(a?.get('STATUS')).toBe('TENTATIVE');
    expect(a?.get('SEQUENCE')).toBe('0');
    expect(a?.get('TRANSP')).toBe('OPAQUE');
    expect(a?.get('DTSTART')).toBe('20300302T150000Z');
    expect(a?.get('DTEND')).toBe('20300302T160000Z');
    expect(a?.get('DTSTAMP')).toBe('20300301T120000Z');
    expect(a?.get('LAST-MODIFIED')).toBe('20300301T093000Z');
    expect(a?.get('URL')).toBe('https://coaching.example.com:8443/call?meeting=a');
    expect(unescapeText(a?.get('DESCRIPTION') ?? '')).toBe(
      'Instructor: ivan\nJoin: https://coaching.example.com:8443/call?meeting=a',
    );
    expect(b?.get('STATUS')).toBe('CONFIRMED');
    expect(b?.get('SEQUENCE')).toBe('2');
    expect(unescapeText(b?.get('DESCRIPTION') ?? '')).toContain('Customer: Cora Customer');
    expect(c?.get('STATUS')).toBe('CANCELLED');
    expect(c?.get('SEQUENCE')).toBe('3');
    expect(c?.get('TRANSP')).toBe('TRANSPARENT');
    expect(ics.endsWith('END:VCALENDAR\r\n')).toBe(true);
  });

  it('round-trips titles with commas, semicolons, backslashes, line breaks and non-ASCII through escaping and folding', () => {
    const titles = [
      'Legs, core; and\nbalance',
      'Back\\slash; “quotes”, Übung — 日本語のトレーニング 🏋️‍♀️🏋️‍♂️ '.repeat(4).trim(),
      `${'é'.repeat(37)}${'🧘'.repeat(20)}`,
      'Windows\r\nline and a lone\rreturn',
    ];
    const ics = render(feed(titles.map((title, i) => event({ meetingId: `m${i}`, title }))));
    const summaries = events(ics).map((e) => unescapeText(e.get('SUMMARY') ?? ''));
    expect(summaries).toEqual([titles[0], titles[1], titles[2], 'Windows\nline and a lone\nreturn']);
  });

  it('drops control characters that TEXT may not contain', () => {
    const ics = render(feed([event({ title: 'Bell\u0007 and\u0000 nul\u001b', counterpartName: 'Ivan\u000b' })]));
    const [only] = events(ics);
    expect(unescapeText(only?.get('SUMMARY') ?? '')).toBe('Bell and nul');
    expect(unescapeText(only?.get('DESCRIPTION') ?? '')).toMatch(/^Instructor: Ivan\n/);
  });

  it('writes an empty calendar when there is nothing to show, named after the site', () => {
    const ics = render(feed([]));
    const lines = unfold(ics);
    expect(lines).not.toContain('BEGIN:VEVENT');
    expect(lines).toEqual(
      expect.arrayContaining(['X-WR-CALNAME:Virtual Y sessions', 'REFRESH-INTERVAL;VALUE=DURATION:PT1H']),
    );
    expect(lines.at(-1)).toBe('END:VCALENDAR');
  });
});

/** Names that break a calendar that does not escape them: TEXT and parameter delimiters, quotes, line breaks, carets. */
const hostileNames = [
  'Eve, the; boss \\ x',
  'C:\\new\\, folder\\; \\\\ end\\',
  'Line\nbreak',
  'Quote "me" ^n ^^ caret',
  'Colon: semi; comma, "q"; ROLE=CHAIR',
  'Ünïcödé 日本語 🏋️',
];

describe('the ICS feed, read by ical.js', () => {
  it('escapes the calendar name as TEXT, so a parser reads back exactly the owner', () => {
    for (const name of hostileNames) {
      const ics = render(feed([event()], name));
      const calendar = parseCalendar(ics);
      expect(calendar.getFirstPropertyValue('x-wr-calname')).toBe(`Virtual Y: ${name}`);
      // Strict RFC 5545 §3.3.11 TEXT: a backslash only before \\ ; , n N, and no bare , or ; (lenient parsers forgive them).
      const raw = unfold(ics)
        .find((l) => l.startsWith('X-WR-CALNAME:'))!
        .slice('X-WR-CALNAME:'.length);
      expect(raw.replace(/\\[\\;,nN]/g, '')).not.toMatch(/[\\;,]/);
      // Nothing leaked into a property of its own.
      expect(
        calendar
          .getAllProperties()
          .map((p) => p.name)
          .sort(),
      ).toEqual(
        ['calscale', 'method', 'prodid', 'refresh-interval', 'version', 'x-published-ttl', 'x-wr-calname'].sort(),
      );
    }
  });

  it('names the instructor as the ORGANIZER of each session, with a quoted, escaped CN and their address', () => {
    // RFC 5545 has no backslash escapes in parameter values, so a backslash is written as it is; ical.js unescapes
    // parameters as TEXT (its DEFAULT_PARAM_TYPE) and would misread `\n` there, so those names are checked raw.
    for (const name of hostileNames.filter((n) => n.includes('\\'))) {
      const lines = unfold(render(feed([event({ instructorName: name, instructorEmail: 'ivan@example.com' })])));
      expect(lines.filter((l) => l.startsWith('ORGANIZER'))).toEqual([
        `ORGANIZER;CN="${name}":mailto:ivan@example.com`,
      ]);
    }
    for (const name of hostileNames.filter((n) => !n.includes('\\'))) {
      const ics = render(
        feed([
          event({ meetingId: 'a', instructorName: name, instructorEmail: 'ivan@example.com' }),
          event({
            meetingId: 'b',
            role: 'instructor',
            counterpartId: 'cora',
            instructorName: 'Ina',
            instructorEmail: 'ina@example.com',
          }),
        ]),
      );
      const [a, b] = parseCalendar(ics).getAllSubcomponents('vevent');
      expect(a?.getAllProperties('organizer')).toHaveLength(1);
      expect(contactOf(a!.getFirstProperty('organizer'))).toEqual({
        address: 'mailto:ivan@example.com',
        params: { cn: name },
      });
      expect(contactOf(b!.getFirstProperty('organizer'))).toEqual({
        address: 'mailto:ina@example.com',
        params: { cn: 'Ina' },
      });
    }
  });

  it("falls back to the site's sender when the instructor has no address in the directory", () => {
    const ics = render(feed([event({ instructorName: 'Ivan' })]));
    const [only] = parseCalendar(ics).getAllSubcomponents('vevent');
    expect(contactOf(only!.getFirstProperty('organizer'))).toEqual({
      address: 'mailto:no-reply@example.com',
      params: { cn: 'Virtual Y' },
    });
  });
});

describe('foldIcsLines', () => {
  it('folds by octets, never inside a UTF-8 sequence, and unfolds to the same text', () => {
    const long = `SUMMARY:${'ü'.repeat(50)}${'😀'.repeat(30)}x`;
    const folded = foldIcsLines(`BEGIN:VCALENDAR\r\n${long}\r\nEND:VCALENDAR\r\n`);
    expectWellFolded(folded);
    expect(unfold(folded)).toEqual(['BEGIN:VCALENDAR', long, 'END:VCALENDAR']);
    // A full first line of 75 octets, continuations of 74 plus the space.
    const physical = folded.split('\r\n');
    expect(Buffer.byteLength(physical[1]!)).toBeGreaterThan(71);
    expect(physical[2]!.startsWith(' ')).toBe(true);
  });

  it('leaves short lines alone and refolds lines the package folded by characters', () => {
    expect(foldIcsLines('A:b\r\nC:d\r\n')).toBe('A:b\r\nC:d\r\n');
    const characterFolded = `X:${'日'.repeat(73)}\r\n\t${'日'.repeat(10)}\r\n`;
    const refolded = foldIcsLines(characterFolded);
    expectWellFolded(refolded);
    expect(unfold(refolded)).toEqual([`X:${'日'.repeat(83)}`]);
  });
});
