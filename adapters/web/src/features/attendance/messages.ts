/** The words of a session's attendance: marks, times in the call, and the trainer's controls. */
export const messages = {
  en: {
    attendance: {
      title: 'Attendance',
      notYet: 'Attendance can be marked once the session has started.',
      unmarked: 'Not marked yet.',
      status: { attended: 'Attended', 'no-show': 'No-show' },
      markedAt: '(marked {time})',
      markedBy: {
        trainer: {
          attended: 'Marked attended by your trainer on {time}.',
          'no-show': 'Marked no-show by your trainer on {time}.',
        },
        staff: {
          attended: 'Marked attended by staff on {time}.',
          'no-show': 'Marked no-show by staff on {time}.',
        },
        someone: {
          attended: 'Marked attended on {time}.',
          'no-show': 'Marked no-show on {time}.',
        },
      },
      role: { customer: 'Member: {name}', instructor: 'Trainer: {name}' },
      present: 'In the call now.',
      visits: 'Times in the call',
      joined: 'Joined {time}',
      left: 'left {time}',
      noVisits: 'Has not joined the call.',
      markNamed: 'Mark the attendance of {name}',
    },
  },
  es: {
    attendance: {
      title: 'Asistencia',
      notYet: 'La asistencia se puede marcar cuando la sesión haya empezado.',
      unmarked: 'Aún sin marcar.',
      status: { attended: 'Asistió', 'no-show': 'No se presentó' },
      markedAt: '(marcado {time})',
      markedBy: {
        trainer: {
          attended: 'Tu entrenador marcó tu asistencia el {time}.',
          'no-show': 'Tu entrenador marcó que no te presentaste el {time}.',
        },
        staff: {
          attended: 'El personal marcó tu asistencia el {time}.',
          'no-show': 'El personal marcó que no te presentaste el {time}.',
        },
        someone: {
          attended: 'Asistencia marcada el {time}.',
          'no-show': 'Marcado como no presentado el {time}.',
        },
      },
      role: { customer: 'Miembro: {name}', instructor: 'Entrenador: {name}' },
      present: 'En la llamada ahora.',
      visits: 'Tiempos en la llamada',
      joined: 'Entró {time}',
      left: 'salió {time}',
      noVisits: 'No ha entrado en la llamada.',
      markNamed: 'Marcar la asistencia de {name}',
    },
  },
};
