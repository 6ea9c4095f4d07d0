import { describe, expect, it } from 'vitest';
import { defaultSettings } from '../../../domain/settings.ts';
import { templateTokens, tokensForTopic } from '../../../domain/template.ts';
import { useSystem } from '../../support/system.ts';
import { aMeeting } from '../../support/builders.ts';

// The settings page's helpers: the token list (the domain's, not a copy) and a preview of the cancellation email,
// rendered by the mailer's own code for a real session, writing nothing.
const sys = useSystem({
  people: [
    { id: 'ivan', name: 'Ivan <b>Instructor</b>', timezone: 'America/New_York' },
    { id: 'cora', name: 'Cora & Co', timezone: 'America/Chicago' },
  ],
});
const admin = sys.client('boss', ['admin']);
const auditor = sys.client('audra', ['auditor']);
const ivan = sys.client('ivan', ['instructor']);
const cancellation = defaultSettings.notifications.cancellation;

describe('GET /settings/template-tokens', () => {
  it("answers the domain's token list to admins and auditors, and 403 to others", async () => {
    const res = await admin.request('GET', '/settings/template-tokens');
    expect(res.status).toBe(200);
    // `meeting` and `series` are the cancellation's, as before topics; `topics` has every topic's own.
    expect([...res.body.meeting, ...res.body.series].sort()).toEqual([...tokensForTopic('cancelled')].sort());
    expect(res.body.series).toContain('sessionList');
    expect(res.body.topics.rescheduled).toContain('previousStartDate');
    expect(res.body.topics.booked).toContain('location');
    expect(res.body.topics.cancelled).not.toContain('location');
    expect([...new Set(Object.values(res.body.topics as Record<string, string[]>).flat())].sort()).toEqual(
      [...templateTokens].sort(),
    );
    expect((await auditor.request('GET', '/settings/template-tokens')).status).toBe(200);
    expect((await ivan.request('GET', '/settings/template-tokens')).status).toBe(403);
  });
});

describe('POST /settings/preview', () => {
  it('renders the next session with its names escaped in the HTML and dates in the reader zone', async () => {
    const created = await admin.request('POST', '/meetings', aMeeting({ title: 'Core <i>work</i>' }));
    expect(created.status).toBe(201);
    const before = (await admin.request('GET', '/settings/history')).body.events.length;
    const res = await admin.request('POST', '/settings/preview', {
      subject: 'Cancelled: {{meetingTitle}} with {{counterpartName}}',
      bodyTemplate: '<p>Hi {{recipientName}}, {{meetingTitle}} on {{startDate}} is off. {{reason}}</p>',
      reason: 'Gym <closed>',
    });
    expect(res.status).toBe(200);
    expect(res.body.meetingId).toBe(created.body.id);
    expect(res.body.subject).toBe('Cancelled: Core <i>work</i> with Ivan <b>Instructor</b>');
    expect(res.body.html).toContain('<p>Hi Cora &amp; Co, Core &lt;i&gt;work&lt;/i&gt; on');
    expect(res.body.html).toContain('Gym &lt;closed&gt;');
    // 2030-03-02T15:00Z is 9:00 in Chicago, the member's zone.
    expect(res.body.html).toMatch(/9:00\s?AM CST/);
    expect(res.body.text).toContain('Hi Cora & Co, Core <i>work</i> on');
    // Nothing is saved.
    expect((await admin.request('GET', '/settings/history')).body.events.length).toBe(before);
    expect((await admin.request('GET', '/settings')).body.notifications.cancellation.subject).toBe(
      cancellation.subject,
    );
  });

  it("renders the instructor's email for a given meeting in the instructor's zone", async () => {
    const created = await admin.request(
      'POST',
      '/meetings',
      aMeeting({ start: '2030-05-02T15:00:00Z', end: '2030-05-02T16:00:00Z' }),
    );
    const res = await admin.request('POST', '/settings/preview', {
      subject: cancellation.instructorSubject,
      bodyTemplate: '{{recipientName}} / {{counterpartName}} / {{startDate}}',
      recipient: 'instructor',
      meetingId: created.body.id,
    });
    expect(res.status).toBe(200);
    expect(res.body.meetingId).toBe(created.body.id);
    expect(res.body.html).toMatch(/^Ivan &lt;b&gt;Instructor&lt;\/b&gt; \/ Cora &amp; Co \/ .*11:00\s?AM EDT/);
  });

  it('answers 400 naming the field for a template error, 404 for an unknown meeting, 403 to non-admins', async () => {
    const bad = await admin.request('POST', '/settings/preview', {
      subject: 'Hi {{nope}}',
      bodyTemplate: '<p>{{siteName</p>',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['bodyTemplate', 'subject']);
    expect(bad.body.errors.find((e: { path: string }) => e.path === 'subject').message).toContain(
      "unknown token '{{nope}}'",
    );
    const missing = await admin.request('POST', '/settings/preview', {
      subject: 'x',
      bodyTemplate: 'y',
      meetingId: 'no-such-meeting',
    });
    expect(missing.status).toBe(404);
    const shape = await admin.request('POST', '/settings/preview', { subject: 'x' });
    expect(shape.status).toBe(400);
    for (const who of [auditor, ivan]) {
      expect((await who.request('POST', '/settings/preview', { subject: 'x', bodyTemplate: 'y' })).status).toBe(403);
    }
  });
});

describe('POST /settings/preview for every topic and language', () => {
  it('renders a topic with its own tokens, in Spanish when asked, and refuses a token the topic cannot fill', async () => {
    const created = await admin.request(
      'POST',
      '/meetings',
      aMeeting({ start: '2031-05-02T15:00:00Z', end: '2031-05-02T16:00:00Z', timezone: 'America/New_York' }),
    );
    expect(created.status).toBe(201);
    const res = await admin.request('POST', '/settings/preview', {
      topic: 'rescheduled',
      language: 'es-MX',
      meetingId: created.body.id,
      subject: '{{meetingTitle}} movida',
      bodyTemplate: '<p>Antes {{previousStartDate}}, ahora {{startDate}}: {{trainingType}} en {{location}}</p>',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.text).toContain('una videollamada en la aplicación');
    expect(res.body.text).toContain(`/call?meeting=${created.body.id}`);
    // Dates in Spanish, the zone named after its bare offset (es-ES has no abbreviation for Chicago).
    expect(res.body.text).toMatch(
      /Antes (lunes|martes|miércoles|jueves|viernes|sábado|domingo), \d+ de \S+ de \d{4}, .+ GMT-[56] \(America\/Chicago\), ahora /,
    );
    const refused = await admin.request('POST', '/settings/preview', {
      topic: 'cancelled',
      subject: 'x',
      bodyTemplate: '<p>{{location}}</p>',
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('bodyTemplate');
  });
});
