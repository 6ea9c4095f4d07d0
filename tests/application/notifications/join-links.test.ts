import { describe, expect, it } from 'vitest';
import { withJoinLinks } from '../../../application/notifications/join-links.ts';

const links: Record<string, string> = {
  'cora:m1': 'https://coach.example/call?meeting=m1#link=jl1.a.b',
  'cora:m2': 'https://coach.example/call?meeting=m2&x="<y>"#link=jl1.c.d',
};
const joinLink = (personId: string, meetingId: string) => links[`${personId}:${meetingId}`];

describe('the join links of an email', () => {
  it('adds the recipient’s own link to each announced session, HTML-escaped, before </body> and in the text', () => {
    const body = withJoinLinks(
      { html: '<html><body><p>Cancelled.</p></body></html>', text: 'Cancelled.' },
      'cora',
      ['m1', 'm2', 'gone'],
      joinLink,
    );
    expect(body.html).toBe(
      '<html><body><p>Cancelled.</p><p>Your own links to the sessions (do not share them):</p><ul>' +
        '<li><a href="https://coach.example/call?meeting=m1#link=jl1.a.b">https://coach.example/call?meeting=m1#link=jl1.a.b</a></li>' +
        '<li><a href="https://coach.example/call?meeting=m2&amp;x=&quot;&lt;y&gt;&quot;#link=jl1.c.d">' +
        'https://coach.example/call?meeting=m2&amp;x=&quot;&lt;y&gt;&quot;#link=jl1.c.d</a></li></ul></body></html>',
    );
    expect(body.text).toBe(
      'Cancelled.\n\nYour own links to the sessions (do not share them):\n' +
        '- https://coach.example/call?meeting=m1#link=jl1.a.b\n' +
        '- https://coach.example/call?meeting=m2&x="<y>"#link=jl1.c.d',
    );
  });

  it('leaves the email as it is when the recipient has no link', () => {
    const body = { html: '<p>Cancelled.</p>', text: 'Cancelled.' };
    expect(withJoinLinks(body, 'ivan', ['m1'], joinLink)).toEqual(body);
  });
});
