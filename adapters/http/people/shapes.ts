import * as t from 'io-ts';
import { annotate } from '../../../domain/annotate.ts';
import { MAX_EMAIL_LENGTH } from '../../../domain/email.ts';
import { MAX_PERSON_NAME_LENGTH, PersonEmail, PersonLanguage, PersonName } from '../../../domain/person.ts';
import { IsoInstant, Role } from '../../../domain/shared.ts';
import { TimeZoneName } from '../../../domain/time.ts';
import type { PersonView } from '../../../application/ports/read-models.ts';

export const PersonBody = annotate(
  t.intersection([t.type({ name: PersonName, email: PersonEmail }), t.partial({ timezone: TimeZoneName })]),
  { name: 'PersonInput' },
);

export const PersonResource = annotate(
  t.intersection([
    t.type({
      id: t.string,
      name: annotate(t.string, {
        minLength: 1,
        maxLength: MAX_PERSON_NAME_LENGTH,
        description: 'Display name, trimmed.',
      }),
      email: annotate(t.string, { format: 'email', maxLength: MAX_EMAIL_LENGTH }),
      roles: annotate(t.array(Role), {
        description: 'The roles the directory gives this person; empty for one registered before roles were kept.',
      }),
      active: annotate(t.boolean, { description: 'False once deactivated: no sign-in and no new bookings.' }),
      updatedAt: annotate(IsoInstant, { description: 'When it last changed.' }),
    }),
    t.partial({ timezone: TimeZoneName, language: PersonLanguage }),
  ]),
  { name: 'Person' },
);

// The application's person view is answered as it is: the compiler holds it to the documented shape.
const _personAnswerFits = (view: PersonView): t.TypeOf<typeof PersonResource> => ({
  ...view,
  roles: [...view.roles],
});
