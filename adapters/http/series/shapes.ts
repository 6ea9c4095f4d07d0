import * as t from 'io-ts';
import { seriesOptionalFields, seriesRequiredFields } from '../../../domain/series.ts';
import { IsoInstant } from '../../../domain/shared.ts';
import type { AuthUser } from '../../../application/ports/access.ts';
import type { SeriesView } from '../../../application/ports/read-models.ts';

export const SeriesBody = t.intersection([t.type(seriesRequiredFields), t.partial(seriesOptionalFields)]);
export const SeriesPatchBody = t.partial({ ...seriesRequiredFields, ...seriesOptionalFields });
export const SeriesCancelBody = t.partial({ reason: t.string, from: IsoInstant });

/** As for meetings: customer metadata for admins and the instructor, instructor metadata for admins. */
export const presentSeries = (user: AuthUser, view: SeriesView) => {
  const { customerMetadata, instructorMetadata, cancelledFrom, ...rest } = view;
  const admin = user.roles.includes('admin');
  return {
    ...rest,
    ...(cancelledFrom !== undefined ? { cancelledFrom } : {}),
    ...(admin || view.instructorId === user.id ? { customerMetadata } : {}),
    ...(admin ? { instructorMetadata } : {}),
  };
};
