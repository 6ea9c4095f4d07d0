import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { htmlToText, renderCancellationEmail } from '../../../application/notifications/render.ts';
import type { CancellationEmailInput } from '../../../application/notifications/render.ts';
import { cancellationTemplatesFor, defaultSettings, emailTemplatesFor, emailTopics } from '../../../domain/settings.ts';

const templates = defaultSettings.notifications.cancellation;

const input = (overrides: Partial<CancellationEmailInput> = {}): CancellationEmailInput => ({
  templates,
  recipientRole: 'customer',
  siteName: 'Virtual Y',
  kind: 'meeting',
  title: 'Strength basics',
  customerName: 'Cora Customer',
  instructorName: 'Ivan Instructor',
  timezone: 'America/Chicago',
  sessions: [{ start: '2030-03-02T15:00:00.000Z', end: '2030-03-02T16:00:00.000Z' }],
  ...overrides,
});

const render = (overrides: Partial<CancellationEmailInput> = {}) => {
  const result = renderCancellationEmail(input(overrides));
  if (E.isLeft(result)) throw new Error(result.left);
  return result.right;
};

describe('cancellation email rendering', () => {
  it('writes dates in the reader’s language, the zone named after a bare offset, and leaves no empty paragraph', () => {
    const es = render({
      language: 'es-MX',
      timezone: 'Europe/Madrid',
      templates: emailTemplatesFor(defaultSettings, 'rescheduled', 'customer', 'es'),
      sessions: [
        {
          start: '2030-03-02T09:00:00.000Z',
          end: '2030-03-02T10:00:00.000Z',
          previousStart: '2030-03-01T09:00:00.000Z',
        },
      ],
    });
    expect(es.subject).toBe(
      'Virtual Y: "Strength basics" se ha movido al sábado, 2 de marzo de 2030, 10:00 a.m. GMT+1 (Europe/Madrid)',
    );
    expect(es.text).toContain('se ha movido del viernes, 1 de marzo de 2030');
    expect(render({ language: 'es', timezone: 'Europe/Madrid' }).html).toContain(
      'sábado, 2 de marzo de 2030, 16:00 CET',
    );
    for (const language of ['en', 'es'])
      for (const topic of emailTopics)
        for (const recipientRole of ['customer', 'instructor'] as const) {
          const one = render({
            language,
            recipientRole,
            templates: emailTemplatesFor(defaultSettings, topic, recipientRole, language),
          });
          expect(one.html, `${language} ${topic}`).not.toMatch(/<p>\s*<\/p>/);
          const series = render({
            language,
            recipientRole,
            kind: 'series',
            templates: emailTemplatesFor(defaultSettings, topic, recipientRole, language),
            sessions: [
              { start: '2030-03-02T15:00:00.000Z', end: '2030-03-02T16:00:00.000Z' },
              { start: '2030-03-09T15:00:00.000Z', end: '2030-03-09T16:00:00.000Z' },
            ],
          });
          expect(series.html, `${language} ${topic}`).not.toMatch(/<p>\s*<ul>/);
        }
  });

  it('the English reminder reads "starts on"', () => {
    expect(render({ templates: emailTemplatesFor(defaultSettings, 'reminder', 'customer') }).text).toContain(
      'starts on Saturday, March 2, 2030',
    );
  });

  it('shows the date in the reader zone with the zone named', () => {
    const email = render();
    expect(email.html).toContain('Saturday, March 2, 2030, 9:00 AM CST');
    expect(email.text).toContain('Saturday, March 2, 2030, 9:00 AM CST');
    const inTokyo = render({ timezone: 'Asia/Tokyo' });
    expect(inTokyo.html).toContain('Sunday, March 3, 2030, 12:00 AM GMT+9');
  });

  it('fills the subject and the body from the default templates', () => {
    const email = render();
    expect(email.subject).toBe('Virtual Y: your session "Strength basics" was cancelled');
    expect(email.html).toContain('<p>Hello Cora Customer,</p>');
    expect(email.html).toContain('<strong>Strength basics</strong> with Ivan Instructor');
  });

  it("fills {{recipientName}} and {{counterpartName}} from the reader's role, and the instructor default greets the instructor", () => {
    const templates = {
      subject: '{{recipientName}} / {{counterpartName}}',
      bodyTemplate: '<p>Hi {{recipientName}}, {{counterpartName}} & you</p>',
    };
    expect(render({ templates, recipientRole: 'customer' })).toMatchObject({
      subject: 'Cora Customer / Ivan Instructor',
      html: '<p>Hi Cora Customer, Ivan Instructor & you</p>',
    });
    expect(render({ templates, recipientRole: 'instructor', customerName: '<Cora>' })).toMatchObject({
      subject: 'Ivan Instructor / <Cora>',
      html: '<p>Hi Ivan Instructor, &lt;Cora&gt; & you</p>',
    });
    const instructorEmail = render({
      templates: cancellationTemplatesFor(defaultSettings, 'instructor'),
      recipientRole: 'instructor',
    });
    expect(instructorEmail.html).toContain('<p>Hello Ivan Instructor,</p>');
    expect(instructorEmail.html).toContain('with Cora Customer on');
    expect(instructorEmail.subject).toBe('Virtual Y: your session "Strength basics" with Cora Customer was cancelled');
  });

  it('escapes token values in the HTML and shows them literally in the text part', () => {
    const email = render({
      title: '<script>alert("x")</script> & co',
      reason: '<img src=x onerror=alert(1)>',
      customerName: "O'Brien",
    });
    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('<img');
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(email.html).toContain('O&#39;Brien');
    expect(email.text).toContain('<script>alert("x")</script> & co');
    expect(email.text).toContain("Hello O'Brien,");
    // The subject is plain text: no escaping, but no line breaks either (header injection).
    expect(render({ title: 'A & B\r\nBcc: evil@example.com' }).subject).toBe(
      'Virtual Y: your session "A & B Bcc: evil@example.com" was cancelled',
    );
  });

  it('has a readable plain-text alternative without markup', () => {
    const email = render({ reason: 'Instructor is ill' });
    expect(email.text).toBe(
      [
        'Hello Cora Customer,',
        'Your 1on1 session Strength basics with Ivan Instructor on Saturday, March 2, 2030, 9:00 AM CST has been cancelled.',
        'Instructor is ill',
        'Thank you,\nVirtual Y',
      ].join('\n\n'),
    );
  });

  it('lists the sessions of a series as HTML and as text lines, with their count', () => {
    const email = render({
      kind: 'series',
      templates: {
        subject: '{{sessionCount}} sessions of {{meetingTitle}} cancelled',
        bodyTemplate: '<p>Cancelled ({{sessionCount}}):</p>{{sessionList}}<p>Until {{endDate}}</p>',
      },
      sessions: [
        { start: '2030-03-04T15:00:00.000Z', end: '2030-03-04T16:00:00.000Z' },
        { start: '2030-03-11T14:00:00.000Z', end: '2030-03-11T15:00:00.000Z' },
      ],
    });
    expect(email.subject).toBe('2 sessions of Strength basics cancelled');
    expect(email.html).toContain(
      '<ul><li>Monday, March 4, 2030, 9:00 AM CST</li><li>Monday, March 11, 2030, 9:00 AM CDT</li></ul>',
    );
    expect(email.text).toContain('- Monday, March 4, 2030, 9:00 AM CST\n- Monday, March 11, 2030, 9:00 AM CDT');
    expect(email.text).toContain('Until Monday, March 11, 2030, 10:00 AM CDT');
  });

  it('leaves the session list empty for a single meeting', () => {
    const email = render({ templates: { subject: 's', bodyTemplate: '[{{sessionList}}] {{sessionCount}}' } });
    expect(email.html).toBe('[] 1');
  });

  it('refuses a template with an unknown token rather than mailing it verbatim', () => {
    const result = renderCancellationEmail(input({ templates: { subject: '{{nope}}', bodyTemplate: '' } }));
    expect(E.isLeft(result) && result.left).toContain("unknown token '{{nope}}'");
  });
});

describe('html to text', () => {
  it('turns blocks, breaks, list items and links into text and decodes entities', () => {
    expect(
      htmlToText(
        '<h1>Hi</h1><p>a<br>b &amp; c&nbsp;d &#8364; &#x1F600;</p><ul><li>one</li><li>two</li></ul><a href="https://x.example/a?b=1&amp;c=2">here</a>',
      ),
    ).toBe('Hi\n\na\nb & c d € 😀\n\n- one\n- two\n\nhere (https://x.example/a?b=1&c=2)');
  });

  it('leaves an entity named after a built-in property (&constructor;, &toString;, &__proto__;) as written', () => {
    expect(htmlToText('<p>&constructor; &toString; &__proto__; &hasOwnProperty; &amp;</p>')).toBe(
      '&constructor; &toString; &__proto__; &hasOwnProperty; &',
    );
  });

  it('drops scripts, styles and comments', () => {
    expect(htmlToText('<style>p{color:red}</style><!-- hidden --><p>shown</p><script>alert(1)</script>')).toBe('shown');
  });
});
