import { describe, expect, it } from 'vitest';
import { REDACTED, auditRecordOf, isAudited, redact } from '../../application/audit-entry.ts';
import { auditSummary } from '../../application/audit-summary.ts';
import {
  attendanceAggregate,
  calendarFeeds,
  meetings,
  notifications,
  people,
  reminders,
  seriesAggregate,
  sessions,
  settingsAggregate,
} from '../../application/aggregates.ts';
import { identityEventTypes } from '../../domain/identity.ts';
import { signInEventTypes } from '../../domain/sign-in.ts';
import type { RecordedEvent } from '../../application/ports/event-store.ts';
import { csvField } from '../../adapters/http/audit/routes.ts';

const recorded = (overrides: Partial<RecordedEvent>): RecordedEvent => ({
  id: 'e1',
  streamName: 'meeting-m1',
  revision: 0,
  position: 7,
  type: 'MeetingConfirmed',
  data: {},
  metadata: {},
  recordedAt: '2026-01-02T03:04:05.678Z',
  ...overrides,
});

describe('audit entries', () => {
  it('has a sentence of its own for every event type of the aggregates it knows', () => {
    // Named rather than read off projectedAggregates: an aggregate added later gets the generic sentence until
    // someone writes its own.
    const known = [
      meetings,
      attendanceAggregate,
      seriesAggregate,
      people,
      settingsAggregate,
      notifications,
      calendarFeeds,
      sessions,
      reminders,
    ];
    const types = [
      ...known.flatMap((aggregate) => [...aggregate.eventTypes]),
      ...signInEventTypes,
      ...identityEventTypes,
    ];
    expect(types.length).toBeGreaterThan(35);
    for (const type of types) {
      const summary = auditSummary(type, 'some-stream', {});
      expect(summary, type).not.toContain('in stream some-stream');
      expect(summary, type).toMatch(/^[A-Z].*\.$/);
    }
    expect(auditSummary('DeviceRegistered', 'device-1', {})).toBe('DeviceRegistered in stream device-1.');
    // Inherited names are no event types.
    expect(auditSummary('constructor', 'x-1', {})).toBe('constructor in stream x-1.');
  });

  it('names values in the sentence, shortened and on one line', () => {
    expect(
      auditSummary('PersonRolesChanged', 'person-p', { personId: 'p', roles: ['admin', 'auditor'], previous: [] }),
    ).toBe('Roles of person p changed from none to admin, auditor.');
    const long = auditSummary('MeetingScheduled', 'meeting-m', { title: `a\nb ${'x'.repeat(200)}` });
    expect(long).not.toMatch(/\n/);
    expect(long).toContain('"a b xxx');
    expect(long.length).toBeLessThan(300);
  });

  it('says who signed in, failed to, or lost a session, and how', () => {
    expect(auditSummary('SignedIn', 'signin-a', { personId: 'cora', method: 'email' })).toBe(
      'Person cora signed in (email).',
    );
    expect(auditSummary('SignInFailed', 'signin-a', { method: 'email', reason: 'unknown-address' })).toBe(
      'A sign-in (email) failed: unknown-address.',
    );
    expect(auditSummary('SignInLinkSent', 'signin-a', { personId: 'cora', purpose: 'invitation' })).toBe(
      'An invitation link was emailed to person cora.',
    );
    expect(auditSummary('SessionRevoked', 'session-s', { personId: 'cora', reason: 'roles-changed' })).toBe(
      'A session of person cora was revoked: roles-changed.',
    );
  });

  it('redacts secret names at any depth, in arrays too, and leaves other fields alone', () => {
    expect(
      redact({ a: [{ b: { idToken: 't', tokens: 1, secretary: 's', codeHash: 'h' } }], webhookSecret: 'w' }),
    ).toEqual({
      a: [{ b: { idToken: REDACTED, tokens: 1, secretary: 's', codeHash: REDACTED } }],
      webhookSecret: REDACTED,
    });
    // A secret whose value is an object goes as a whole.
    expect(redact({ resendApiKey: { value: 'k' } })).toEqual({ resendApiKey: REDACTED });
  });

  it('redacts the settings’ write-only secrets, which other streams may name freely', () => {
    const data = { settings: { mail: { smtpPassword: 'pw', signingPrivateKey: 'pk' } }, at: '2026-01-01T00:00:00Z' };
    const settings = auditRecordOf(recorded({ streamName: 'settings-site', type: 'SettingsChanged', data }));
    expect(settings.entry.data).toEqual({
      settings: { mail: { smtpPassword: REDACTED, signingPrivateKey: REDACTED } },
      at: '2026-01-01T00:00:00Z',
    });
    expect(JSON.stringify(settings.entry)).not.toMatch(/"pw"|"pk"/);
  });

  it('takes the actor from `by`, else the metadata, else unknown; `at` from the data, else the recorded time', () => {
    const by = auditRecordOf(
      recorded({
        data: { meetingId: 'm1', at: '2026-01-01T01:00:00+01:00', by: { id: 'ivan', roles: ['instructor'] } },
        metadata: { actor: { id: 'other', roles: ['admin'] } },
      }),
    );
    expect(by.entry).toMatchObject({ at: '2026-01-01T00:00:00.000Z', actor: { id: 'ivan', roles: ['instructor'] } });
    const meta = auditRecordOf(
      recorded({ data: { at: 'not a time' }, metadata: { actor: { id: 'ada', roles: ['admin'] } } }),
    );
    expect(meta.entry).toMatchObject({ at: '2026-01-02T03:04:05.678Z', actor: { id: 'ada', roles: ['admin'] } });
    const none = auditRecordOf(recorded({ data: null }));
    expect(none.entry.actor).toEqual({ id: 'unknown', roles: [] });
    expect(none.personIds).toEqual([]);
  });

  it('concerns the actor and every person named in the data, once each', () => {
    const record = auditRecordOf(
      recorded({
        type: 'NotificationRequested',
        data: {
          recipient: { personId: 'cora', role: 'customer' },
          cancellation: { customerId: 'cora', instructorId: 'ivan' },
          by: { id: 'ada', roles: ['admin'] },
        },
      }),
    );
    expect([...record.personIds].sort()).toEqual(['ada', 'cora', 'ivan']);
  });

  it('leaves bookkeeping streams out and audits any other', () => {
    expect(isAudited('schedule-cora-2026-01')).toBe(false);
    expect(isAudited('call-ticket-abc')).toBe(false);
    expect(isAudited('idempotency-abc')).toBe(false);
    expect(isAudited('sign-in-abc')).toBe(true);
    expect(isAudited('meeting-m1')).toBe(true);
  });

  it('defuses formula cells and quotes as RFC 4180 says', () => {
    expect(csvField('=1+1')).toBe("'=1+1");
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('-1')).toBe("'-1");
    expect(csvField('@x')).toBe("'@x");
    expect(csvField('\tx')).toBe("'\tx");
    expect(csvField('\rx')).toBe('"\'\rx"');
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField('plain')).toBe('plain');
    expect(csvField('=a,b')).toBe('"\'=a,b"');
  });
});
