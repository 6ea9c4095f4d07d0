export const messages = {
  en: {
    member: {
      nav: 'My sessions',
      title: 'My sessions',
      viewAs: 'Show as',
      list: 'List',
      calendar: 'Calendar',
      calendarLabel: 'Your sessions on a calendar',
      empty: 'You have no sessions coming up until {date}.',
      later: 'Later (next {weeks} weeks)',
      withTrainer: 'With {name}',
      withMember: 'For {name}',
    },
  },
  es: {
    member: {
      nav: 'Mis sesiones',
      title: 'Mis sesiones',
      viewAs: 'Mostrar como',
      list: 'Lista',
      calendar: 'Calendario',
      calendarLabel: 'Tus sesiones en un calendario',
      empty: 'No tienes sesiones previstas hasta el {date}.',
      later: 'Más adelante (siguientes {weeks} semanas)',
      withTrainer: 'Con {name}',
      withMember: 'Para {name}',
    },
  },
};
