import * as t from 'io-ts';
import { IsoInstant } from '../../../domain/shared.ts';

export const CalendarQuery = t.intersection([
  t.type({ from: IsoInstant, to: IsoInstant }),
  t.partial({ userId: t.string }),
]);
export const FeedBody = t.partial({ userId: t.string });
export const FeedQuery = t.partial({ userId: t.string });
