import * as t from 'io-ts';

export const PersonBody = t.intersection([
  t.type({ name: t.string, email: t.string }),
  t.partial({ timezone: t.string }),
]);
