import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../../adapters/signaling/harness.ts';
import type { Client } from '../../support/system.ts';
import { devClient, expectAccessible, missingTranslations, PHONE, startWeb } from '../../support/web.ts';
import type { WebHarness } from '../../support/web.ts';

// Attendance in Chromium against the real server: the trainer marks the member once the session has started (no
// controls before), the member reads the mark and has no controls, and the history shows the member's join and leave
// of the call, made with a real socket through the server's join endpoint.
const MIN = 60_000;
let web: WebHarness;
let admin: Client;
let upcoming: string;
let started: string;

const inMinutes = (m: number) => new Date(Date.now() + m * MIN).toISOString();

const schedule = async (start: string, end: string): Promise<string> => {
  const res = await admin.request('POST', '/meetings', {
    title: 'Strength basics',
    customerId: 'customer-1',
    instructorId: 'instructor-1',
    start,
    end,
    timezone: 'Europe/London',
    trainingType: '1-1',
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
};

beforeAll(async () => {
  web = await startWeb({ system: { signaling: { attendanceGraceMs: 0 } } });
  admin = await devClient(web.url, 'admin-1');
  // The demo sessions of these two people would clash with the ones below: out of the way first.
  const seeded = await admin.request(
    'GET',
    `/calendar?userId=instructor-1&from=${encodeURIComponent(inMinutes(-24 * 60))}&to=${encodeURIComponent(inMinutes(7 * 24 * 60))}`,
  );
  for (const item of seeded.body.items as Array<{ meetingId: string; state: string }>) {
    if (item.state !== 'cancelled') await admin.request('POST', `/meetings/${item.meetingId}/cancel`, {});
  }
  upcoming = await schedule(inMinutes(180), inMinutes(240));
  started = await schedule(inMinutes(-5), inMinutes(55));
}, 180_000);
afterEach(() => web.closeContexts(), 60_000);
afterAll(() => web?.close(), 60_000);

describe('attendance on the session page', { timeout: 120_000 }, () => {
  it('offers the trainer no controls before the start, and after it marks the member no-show', async () => {
    const page = await web.page({ bypassCSP: true });
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/sessions/${upcoming}`);
    await page.getByRole('heading', { level: 2, name: 'Attendance' }).waitFor();
    await page.getByText('Attendance can be marked once the session has started.').waitFor();
    expect(await page.getByRole('button', { name: 'No-show' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Attended' }).count()).toBe(0);

    await page.goto(`${web.url}/app/sessions/${started}`);
    const member = page.locator('.attendance__entry[data-person="customer-1"]');
    await member.getByText('Not marked yet.').waitFor();
    await member.getByRole('button', { name: 'No-show' }).click();
    await member.getByRole('button', { name: 'No-show', pressed: true }).waitFor();
    await member.locator('.attendance__status[data-status="no-show"]').waitFor();
    // When, in the trainer's zone, named.
    expect(await member.locator('.attendance__status').innerText()).toMatch(
      /^No-show \(marked .*\(America\/New_York\)\)$/,
    );
    // Changeable: attended, then back to no-show.
    await member.getByRole('button', { name: 'Attended' }).click();
    await member.getByRole('button', { name: 'Attended', pressed: true }).waitFor();
    await member.getByRole('button', { name: 'No-show' }).click();
    await member.getByRole('button', { name: 'No-show', pressed: true }).waitFor();
    const read = await admin.request('GET', `/meetings/${started}`);
    expect(read.body.attendance[0]).toMatchObject({ personId: 'customer-1', status: 'no-show' });
    await expectAccessible(page);
    expect(await missingTranslations(page)).toEqual([]);
  });

  it('shows the member the mark and their times in the call, with no controls, at phone width', async () => {
    // The member joins the call with a real socket and leaves it again.
    const cora = await devClient(web.url, 'customer-1');
    const joined = await cora.request('POST', `/meetings/${started}/join`);
    expect(joined.status, JSON.stringify(joined.body)).toBe(200);
    const socket = new TestClient(
      `${web.url.replace(/^http/, 'ws')}/signaling?ticket=${encodeURIComponent(joined.body.ticket)}`,
    );
    await socket.waitType('welcome');
    await expect
      .poll(async () => (await admin.request('GET', `/meetings/${started}`)).body.attendance[0].present)
      .toBe(true);
    socket.ws.close();
    await socket.closed;
    await expect
      .poll(async () => (await admin.request('GET', `/meetings/${started}`)).body.attendance[0].present)
      .toBe(false);

    const page = await web.page({ viewport: PHONE, bypassCSP: true });
    await web.signIn(page, 'customer-1');
    await page.goto(`${web.url}/app/sessions/${started}`);
    await page.getByText(/Marked no-show by your trainer on /).waitFor();
    await page.getByText(/^Joined .*· left /).waitFor();
    expect(await page.getByRole('button', { name: 'No-show' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Attended' }).count()).toBe(0);
    // The member's own entry only: no heading per participant.
    expect(await page.locator('.attendance__entry').count()).toBe(1);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await expectAccessible(page);
    expect(await missingTranslations(page)).toEqual([]);

    // The member's list of sessions marks it too.
    await page.goto(`${web.url}/app/sessions`);
    const item = page.locator('.member__item', { has: page.locator(`a[href="/app/sessions/${started}"]`) });
    await item.locator('[data-attendance="no-show"]').waitFor();
    expect(await item.innerText()).toContain('No-show');
    await expectAccessible(page);
  });

  it('shows the join, the leave and the mark in the history', async () => {
    const page = await web.page({ bypassCSP: true });
    await web.signIn(page, 'instructor-1');
    await page.goto(`${web.url}/app/sessions/${started}/history`);
    await page.getByRole('heading', { level: 1, name: 'Session history' }).waitFor();
    const items = page.locator('.history__item');
    await page.locator('.history__item[data-type="ParticipantLeft"]').waitFor();
    const types = await items.evaluateAll((els) => els.map((e) => e.getAttribute('data-type')));
    expect(types).toEqual([
      'MeetingScheduled',
      'AttendanceMarked',
      'AttendanceMarked',
      'AttendanceMarked',
      'ParticipantJoined',
      'ParticipantLeft',
    ]);
    expect(await items.nth(1).innerText()).toContain('Attendance: no-show');
    expect(await items.nth(2).innerText()).toContain('Attendance: from no-show to attended');
    expect(await items.nth(3).innerText()).toContain('Attendance: from attended to no-show');
    expect(await items.nth(4).innerText()).toContain('The member joined the call');
    expect(await items.nth(5).innerText()).toContain('The member left the call');
    await expectAccessible(page);
    expect(await missingTranslations(page)).toEqual([]);

    // The audit log names the new kinds of event.
    const audit = await web.page({ bypassCSP: true });
    await web.signIn(audit, 'auditor-1');
    await audit.goto(`${web.url}/app/audit`);
    await audit.locator('#audit-type option[value="ParticipantJoined"]').waitFor({ state: 'attached' });
    await audit.locator('#audit-type').selectOption('ParticipantJoined');
    await audit.getByRole('button', { name: 'Show' }).click();
    const entry = audit.locator('.audit__entry[data-type="ParticipantJoined"]');
    await entry.first().waitFor();
    expect(await audit.locator('.audit__entry').count()).toBe(1);
    expect(await entry.innerText()).toContain('Joined the call');
    expect(await entry.innerText()).toContain('The customer customer-1 joined the call.');
    // Its stream opens the session's history.
    expect(await entry.locator('a[href$="/history"]').getAttribute('href')).toBe(`/app/sessions/${started}/history`);
    await expectAccessible(audit);
  });

  it('reads in Spanish, for the member and the trainer, without a missing key', async () => {
    const member = await web.page({ locale: 'es-ES', bypassCSP: true });
    await web.signIn(member, 'customer-1');
    await member.goto(`${web.url}/app/sessions/${started}`);
    await member.getByRole('heading', { level: 2, name: 'Asistencia' }).waitFor();
    await member.getByText(/Tu entrenador marcó que no te presentaste el /).waitFor();
    await member.getByText(/^Entró .*· salió /).waitFor();
    expect(await missingTranslations(member)).toEqual([]);

    const trainer = await web.page({ locale: 'es-ES', bypassCSP: true });
    await web.signIn(trainer, 'instructor-1');
    await trainer.goto(`${web.url}/app/sessions/${upcoming}`);
    await trainer.getByText('La asistencia se puede marcar cuando la sesión haya empezado.').waitFor();
    await trainer.goto(`${web.url}/app/sessions/${started}/history`);
    await trainer.getByText('El miembro entró en la llamada').waitFor();
    await trainer.getByText('Asistencia: de asistió a no se presentó').waitFor();
    expect(await missingTranslations(trainer)).toEqual([]);
    await expectAccessible(trainer);
  });
});
