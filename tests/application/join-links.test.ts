import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { JoinLinkSigner, createJoinLinks } from '../../application/join-links.ts';
import type { JoinLinkDeps } from '../../application/join-links.ts';
import type { MeetingView, PersonView } from '../../application/ports/read-models.ts';

const SECRET = new TextEncoder().encode('a-secret-that-is-long-enough-for-the-tests!');
const START = '2030-03-02T15:00:00.000Z';
const END = '2030-03-02T16:00:00.000Z';

const meetingOf = (id: string, over: Partial<MeetingView> = {}): MeetingView =>
  ({
    id,
    customerId: 'cora',
    instructorId: 'ivan',
    start: START,
    end: END,
    state: 'scheduled',
    ...over,
  }) as MeetingView;
const personOf = (id: string, active = true): PersonView => ({
  id,
  name: id.toUpperCase(),
  email: `${id}@example.com`,
  roles: ['customer'],
  active,
  updatedAt: START,
});

/** Join links over an in-memory directory, meetings and feed epochs, with a clock the test moves. */
const setup = (secret = SECRET) => {
  const meetings = new Map<string, MeetingView>([
    ['m1', meetingOf('m1')],
    ['m2', meetingOf('m2')],
  ]);
  const people = new Map<string, PersonView>([
    ['cora', personOf('cora')],
    ['ivan', personOf('ivan')],
  ]);
  const epochs = new Map<string, number>();
  let now = new Date('2030-03-02T14:50:00Z');
  const queries: JoinLinkDeps['queries'] = {
    getMeeting: (id) => meetings.get(id),
    getPerson: (id) => people.get(id),
    feedEpoch: (id) => epochs.get(id) ?? 0,
  };
  const links = createJoinLinks({
    signer: new JoinLinkSigner(secret),
    queries,
    clock: () => now,
    publicBaseUrl: () => 'https://coach.example',
  });
  const tokenOf = (url: string | undefined): string => {
    expect(url).toBeDefined();
    return new URL(url!).hash.replace(/^#link=/, '');
  };
  return {
    links,
    meetings,
    people,
    epochs,
    setNow: (iso: string) => (now = new Date(iso)),
    link: (personId: string, meetingId = 'm1') => tokenOf(links.linkFor(personId, meetings.get(meetingId)!)),
  };
};

describe('join links', () => {
  it('are the call page with the token in the fragment, and sign the person in for that meeting only', () => {
    const { links, meetings } = setup();
    const url = links.linkFor('cora', meetings.get('m1')!)!;
    expect(url).toMatch(/^https:\/\/coach\.example\/call\?meeting=m1#link=jl1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    const token = new URL(url).hash.slice('#link='.length);
    expect(links.authenticate(token)).toEqual(
      E.right({
        id: 'cora',
        roles: ['customer'],
        name: 'CORA',
        email: 'cora@example.com',
        scope: { meetingId: 'm1' },
      }),
    );
    expect(links.authenticate(tokenOfInstructor(links, meetings))).toMatchObject(
      E.right({ id: 'ivan', roles: ['instructor'], scope: { meetingId: 'm1' } }),
    );
  });

  it('are made only for the two participants', () => {
    const { links, meetings } = setup();
    expect(links.linkFor('cam', meetings.get('m1')!)).toBeUndefined();
  });

  it('refuse a tampered token, one rewritten for another person or meeting, and one signed with another key', () => {
    const { links, link } = setup();
    const token = link('cora');
    const [prefix, body, mac] = token.split('.') as [string, string, string];
    const flipped = `${prefix}.${body}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    const forged = (change: Record<string, unknown>) =>
      `${prefix}.${Buffer.from(JSON.stringify({ ...payload, ...change })).toString('base64url')}.${mac}`;
    const otherKey = setup(new TextEncoder().encode('another-secret-that-is-long-enough-here!!')).link('cora');
    for (const bad of [flipped, forged({ sub: 'ivan', r: 'instructor' }), forged({ m: 'm2' }), otherKey, '', 'jl1.']) {
      expect(links.authenticate(bad)).toEqual(E.left({ reason: 'invalid', message: 'the join link is not valid' }));
    }
  });

  it('expire at the meeting’s end, by the clock', () => {
    const { links, link, setNow } = setup();
    const token = link('cora');
    setNow('2030-03-02T15:59:59.999Z');
    expect(E.isRight(links.authenticate(token))).toBe(true);
    setNow(END);
    expect(links.authenticate(token)).toEqual(
      E.left({ reason: 'expired', message: 'the join link has expired (the meeting has ended)' }),
    );
  });

  it('expire early when the meeting was moved to end sooner', () => {
    const { links, link, meetings, setNow } = setup();
    const token = link('cora');
    meetings.set('m1', meetingOf('m1', { end: '2030-03-02T15:30:00.000Z' }));
    setNow('2030-03-02T15:30:00.000Z');
    expect(links.authenticate(token)).toMatchObject(E.left({ reason: 'expired' }));
  });

  it('are revoked when the person’s feed epoch moves on, and new ones work', () => {
    const { links, link, epochs } = setup();
    const old = link('cora');
    const ivans = link('ivan');
    epochs.set('cora', 1);
    expect(links.authenticate(old)).toEqual(E.left({ reason: 'invalid', message: 'the join link was revoked' }));
    expect(E.isRight(links.authenticate(ivans))).toBe(true);
    expect(E.isRight(links.authenticate(link('cora')))).toBe(true);
  });

  it('refuse a deactivated person and one who no longer takes part in the meeting', () => {
    const { links, link, people, meetings } = setup();
    const cora = link('cora');
    const ivan = link('ivan', 'm2');
    people.set('cora', personOf('cora', false));
    expect(links.authenticate(cora)).toEqual(E.left({ reason: 'invalid', message: 'the account is deactivated' }));
    meetings.set('m2', meetingOf('m2', { instructorId: 'olga' }));
    expect(links.authenticate(ivan)).toMatchObject(E.left({ reason: 'invalid' }));
    meetings.delete('m2');
    expect(links.authenticate(ivan)).toMatchObject(E.left({ reason: 'invalid' }));
  });
});

const tokenOfInstructor = (links: ReturnType<typeof setup>['links'], meetings: Map<string, MeetingView>): string =>
  new URL(links.linkFor('ivan', meetings.get('m1')!)!).hash.slice('#link='.length);
