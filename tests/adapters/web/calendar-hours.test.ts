import { describe, expect, it } from 'vitest';
import { hoursToShow } from '../../../adapters/web/src/components/calendar-hours.ts';

const zone = 'America/Chicago';

describe('the hours of the week grid', () => {
  it('shows 06:00 to 22:00 without sessions or for sessions inside it', () => {
    expect(hoursToShow([], zone)).toEqual({ min: '06:00:00', max: '22:00:00' });
    // 09:00–10:00 in Chicago (UTC-6 in December)
    expect(hoursToShow([{ start: '2026-12-02T15:00:00Z', end: '2026-12-02T16:00:00Z' }], zone)).toEqual({
      min: '06:00:00',
      max: '22:00:00',
    });
  });

  it('widens to the whole hours of an early or a late session, in the viewer’s zone', () => {
    // 22:30–23:00 and 05:15–06:00 in Chicago
    const late = { start: '2026-12-03T04:30:00Z', end: '2026-12-03T05:00:00Z' };
    const early = { start: '2026-12-02T11:15:00Z', end: '2026-12-02T12:00:00Z' };
    expect(hoursToShow([late], zone)).toEqual({ min: '06:00:00', max: '23:00:00' });
    expect(hoursToShow([early, late], zone)).toEqual({ min: '05:00:00', max: '23:00:00' });
    // The same late session is 05:30 in Madrid: early there instead.
    expect(hoursToShow([late], 'Europe/Madrid')).toEqual({ min: '05:00:00', max: '22:00:00' });
  });

  it('ends at 24:00 for a session ending at midnight, and shows the whole day for one past it', () => {
    expect(hoursToShow([{ start: '2026-12-03T05:00:00Z', end: '2026-12-03T06:00:00Z' }], zone)).toEqual({
      min: '06:00:00',
      max: '24:00:00',
    });
    expect(hoursToShow([{ start: '2026-12-03T05:30:00Z', end: '2026-12-03T06:30:00Z' }], zone)).toEqual({
      min: '00:00:00',
      max: '24:00:00',
    });
  });
});
