import { describe, expect, it } from 'vitest';
import { joinLinksOf, withJoinLinks } from '../../../application/notifications/join-links.ts';
import type { EmailJoinLinks } from '../../../application/notifications/join-links.ts';

const A = 'https://coach.example/call?meeting=m1#link=jl1.a.b';
const B = 'https://coach.example/call?meeting=m2&x="<y>"#link=jl1.c.d';

describe('the join links of an email', () => {
  it('are made from the recorded facts for each announced session, in the recipient’s role', () => {
    const asked: unknown[] = [];
    const links: Pick<EmailJoinLinks, 'linkFrom'> = {
      linkFrom: (input) => {
        asked.push(input);
        return `link-${input.meetingId}`;
      },
    };
    const sessions = [
      { meetingId: 'm1', start: '2030-03-02T15:00:00Z', end: '2030-03-02T16:00:00Z', sequence: 1 },
      { meetingId: 'm2', start: '2030-03-09T15:00:00Z', end: '2030-03-09T16:00:00Z', sequence: 1 },
      { meetingId: 'm3', start: '2030-03-16T15:00:00Z', end: '2030-03-16T16:00:00Z', sequence: 1 },
    ];
    const made = joinLinksOf(links, { personId: 'cora', role: 'customer' }, { sessions }, ['m1', 'm3'], {
      baseUrl: 'https://coach.example',
      epoch: 2,
    });
    expect(made).toEqual(['link-m1', 'link-m3']);
    expect(asked).toEqual([
      {
        personId: 'cora',
        role: 'customer',
        meetingId: 'm1',
        end: '2030-03-02T16:00:00Z',
        baseUrl: 'https://coach.example',
        epoch: 2,
      },
      {
        personId: 'cora',
        role: 'customer',
        meetingId: 'm3',
        end: '2030-03-16T16:00:00Z',
        baseUrl: 'https://coach.example',
        epoch: 2,
      },
    ]);
  });

  it('are added HTML-escaped before </body>, and to the text', () => {
    const body = withJoinLinks({ html: '<html><body><p>Cancelled.</p></body></html>', text: 'Cancelled.' }, [A, B]);
    expect(body.html).toBe(
      '<html><body><p>Cancelled.</p><p>Your own links to the sessions (do not share them):</p><ul>' +
        `<li><a href="${A}">${A}</a></li>` +
        '<li><a href="https://coach.example/call?meeting=m2&amp;x=&quot;&lt;y&gt;&quot;#link=jl1.c.d">' +
        'https://coach.example/call?meeting=m2&amp;x=&quot;&lt;y&gt;&quot;#link=jl1.c.d</a></li></ul></body></html>',
    );
    expect(body.text).toBe(`Cancelled.\n\nYour own links to the sessions (do not share them):\n- ${A}\n- ${B}`);
    expect(withJoinLinks({ html: '<p>x</p>', text: 'x' }, [A]).html).toBe(
      `<p>x</p><p>Your own link to the session (do not share it):</p><ul><li><a href="${A}">${A}</a></li></ul>`,
    );
  });

  it("are headed in the email's language (English when it has none or another)", () => {
    expect(withJoinLinks({ html: '<p>x</p>', text: 'x' }, [A], 'es').text).toBe(
      `x\n\nTu enlace personal a la sesión (no lo compartas):\n- ${A}`,
    );
    expect(withJoinLinks({ html: '<p>x</p>', text: 'x' }, [A, B], 'es').html).toContain(
      '<p>Tus enlaces personales a las sesiones (no los compartas):</p>',
    );
    expect(withJoinLinks({ html: '<p>x</p>', text: 'x' }, [A], 'de').text).toContain('Your own link to the session');
  });

  it('leave the email as it is when there are none', () => {
    const body = { html: '<p>Cancelled.</p>', text: 'Cancelled.' };
    expect(withJoinLinks(body, [])).toEqual(body);
  });
});
