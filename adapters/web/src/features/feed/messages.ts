export const messages = {
  en: {
    feed: {
      nav: 'Calendar feed',
      title: 'Calendar feed',
      what: 'Subscribe to your sessions from Google Calendar, Apple Calendar or Outlook: paste a private address into the calendar app and it keeps your sessions up to date, cancellations included.',
      secret: 'Anyone with the address can see your sessions, so keep it to yourself.',
      enable: 'Turn on the feed',
      enableHint: 'If you turned it on before, that older address stops working.',
      enabled: 'Your calendar feed is on.',
      rotate: 'Replace with a new address',
      rotated: 'Here is your new address. The old one no longer works.',
      disable: 'Turn off the feed',
      disabled: 'Your calendar feed is off. Calendar apps can no longer read it.',
      shownOnce: 'This address is shown only once. Copy it into your calendar app now; if you lose it, make a new one.',
      url: 'Your private feed address',
      urlHint: 'Selected for you: copy it with the button, or with Ctrl+C (⌘C on a Mac).',
      copy: 'Copy the address',
      copied: 'Copied.',
      copyByHand: 'This browser would not copy it. The address is selected: copy it with Ctrl+C (⌘C on a Mac).',
      confirmTitle: 'Replace the feed address?',
      confirmText:
        'The current address stops working at once: calendar apps that use it stop updating until you give them the new one. The join links already emailed to you stop working too.',
      confirm: 'Yes, make a new address',
    },
  },
  es: {
    feed: {
      nav: 'Calendario suscrito',
      title: 'Calendario suscrito',
      what: 'Suscríbete a tus sesiones desde Google Calendar, Apple Calendar u Outlook: pega una dirección privada en la aplicación de calendario y mantendrá tus sesiones al día, cancelaciones incluidas.',
      secret: 'Cualquiera con la dirección puede ver tus sesiones, así que no la compartas.',
      enable: 'Activar el calendario',
      enableHint: 'Si ya lo activaste antes, aquella dirección deja de funcionar.',
      enabled: 'Tu calendario suscrito está activado.',
      rotate: 'Cambiar por una dirección nueva',
      rotated: 'Esta es tu dirección nueva. La anterior ya no funciona.',
      disable: 'Desactivar el calendario',
      disabled: 'Tu calendario suscrito está desactivado. Las aplicaciones de calendario ya no pueden leerlo.',
      shownOnce:
        'Esta dirección solo se muestra una vez. Cópiala ahora en tu aplicación de calendario; si la pierdes, crea una nueva.',
      url: 'Tu dirección privada del calendario',
      urlHint: 'Ya está seleccionada: cópiala con el botón o con Ctrl+C (⌘C en un Mac).',
      copy: 'Copiar la dirección',
      copied: 'Copiada.',
      copyByHand:
        'Este navegador no ha podido copiarla. La dirección está seleccionada: cópiala con Ctrl+C (⌘C en un Mac).',
      confirmTitle: '¿Cambiar la dirección del calendario?',
      confirmText:
        'La dirección actual deja de funcionar en el acto: las aplicaciones que la usan dejarán de actualizarse hasta que les des la nueva. Los enlaces para unirse que ya te enviamos por correo también dejan de funcionar.',
      confirm: 'Sí, crear una dirección nueva',
    },
  },
};
