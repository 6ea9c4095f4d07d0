import { api } from '../../api/client';
import type { PickedPerson } from '../../components/PersonPicker.vue';
import { session } from '../../session';
import { viewerZone } from '../../time';

/** The signed-in trainer as a picker would give them. */
export const selfAsTrainer = (): PickedPerson | undefined => {
  const me = session.state.person;
  return me === undefined ? undefined : { id: me.id, name: me.name, timezone: me.timezone ?? viewerZone() };
};

/** A person by id (admins may read anyone), as a picker gives them; undefined when not found. */
export const personById = async (id: string): Promise<PickedPerson | undefined> => {
  const { data } = await api.GET('/people/{id}', { params: { path: { id } } });
  return data === undefined ? undefined : { id: data.id, name: data.name, timezone: data.timezone };
};

/** The distinct zones a form offers: the trainer's, the member's and the viewer's, in that order. */
export const zoneChoices = (
  trainer: PickedPerson | undefined,
  member: PickedPerson | undefined,
): Array<{ zone: string; whose: 'trainer' | 'member' | 'you' }> => {
  const choices: Array<{ zone: string; whose: 'trainer' | 'member' | 'you' }> = [];
  const add = (zone: string | undefined, whose: 'trainer' | 'member' | 'you') => {
    if (zone !== undefined && !choices.some((c) => c.zone === zone)) choices.push({ zone, whose });
  };
  add(trainer?.timezone, 'trainer');
  add(member?.timezone, 'member');
  add(viewerZone(), 'you');
  return choices;
};
