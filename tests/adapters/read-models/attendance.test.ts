import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../application/ports/event-store.ts';
import { openSqliteReadModels } from '../../../adapters/read-models/index.ts';
import { aMeetingScheduled } from '../../support/builders.ts';
import { tempDir } from '../../support/system.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const start = '2030-03-02T15:00:00.000Z';
const by = { id: 'ivan', roles: ['instructor'] };
let position = 0;
const recorded = (
  streamName: string,
  revision: number,
  type: string,
  data: Record<string, unknown>,
): RecordedEvent => ({
  id: randomUUID(),
  streamName,
  revision,
  position: ++position,
  type,
  recordedAt: new Date().toISOString(),
  metadata: {},
  data,
});
const presence = (personId: string, role: string, at: string) => ({
  meetingId: 'm1',
  personId,
  role,
  at,
  by: { id: personId, roles: [role] },
});

describe('the attendance read model', () => {
  it("shows each meeting's attendance, and the customer's mark on the calendar, also after a rebuild", () => {
    const dir = tempDir();
    dirs.push(dir);
    const models = openSqliteReadModels(join(dir, 'rm.db'));
    const events = [
      recorded('meeting-m1', 0, 'MeetingScheduled', aMeetingScheduled('m1', start, { at: start, by })),
      recorded('attendance-m1', 0, 'ParticipantJoined', presence('cora', 'customer', '2030-03-02T15:01:00.000Z')),
      recorded('attendance-m1', 1, 'ParticipantLeft', presence('cora', 'customer', '2030-03-02T15:40:00.000Z')),
      recorded('meeting-m1', 1, 'MeetingConfirmed', { meetingId: 'm1', at: '2030-03-02T15:41:00.000Z', by }),
      recorded('attendance-m1', 2, 'AttendanceMarked', {
        meetingId: 'm1',
        personId: 'cora',
        status: 'attended',
        at: '2030-03-02T16:00:00.000Z',
        by,
      }),
    ];
    const check = () => {
      expect(models.getAttendance('m1')).toEqual({
        meetingId: 'm1',
        revision: 2,
        participants: [
          {
            personId: 'cora',
            status: 'attended',
            markedBy: by,
            markedAt: '2030-03-02T16:00:00.000Z',
            visits: [{ joinedAt: '2030-03-02T15:01:00.000Z', leftAt: '2030-03-02T15:40:00.000Z' }],
          },
        ],
      });
      for (const userId of ['cora', 'ivan']) {
        expect(models.calendar(userId, '2030-03-01T00:00:00Z', '2030-03-03T00:00:00Z')[0]?.attendance).toBe('attended');
      }
    };
    models.transaction(() => {
      for (const sink of models.sinks) sink.apply(events);
    });
    check();
    for (const sink of models.sinks) sink.reset();
    expect(models.getAttendance('m1')).toBeUndefined();
    expect(models.calendar('cora', '2030-03-01T00:00:00Z', '2030-03-03T00:00:00Z')).toEqual([]);
    for (const sink of models.sinks) sink.apply(events);
    check();
    models.close();
  });
});
