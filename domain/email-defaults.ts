/**
 * The built-in email templates: per language, topic and reader's role. The English cancellation templates are the
 * cancellation settings' own (domain/settings.ts); every other pair is here, and settings override any of them.
 * Each uses only the tokens its topic fills (domain/template.ts `tokensForTopic`), which a test checks.
 */

interface Pair {
  readonly subject: string;
  readonly bodyTemplate: string;
}
type Roles = { readonly customer: Pair; readonly instructor: Pair };

/** Paragraphs; `{{sessionList}}` (a list, or nothing for one session) stands on its own, never in a paragraph. */
const p = (...lines: ReadonlyArray<string>): string =>
  lines.map((line) => (line === '{{sessionList}}' ? line : `<p>${line}</p>`)).join('');

const en = {
  booked: {
    customer: {
      subject: '{{siteName}}: you are booked for "{{meetingTitle}}" on {{startDate}}',
      bodyTemplate: p(
        'Hello {{customerName}},',
        'You are booked for <strong>{{meetingTitle}}</strong> with {{instructorName}} on {{startDate}} ({{trainingType}}).',
        '{{sessionList}}',
        'Where: {{location}}',
        'The attached calendar invitation adds it to your calendar.',
        'See you there,<br>{{siteName}}',
      ),
    },
    instructor: {
      subject: '{{siteName}}: new session "{{meetingTitle}}" with {{customerName}} on {{startDate}}',
      bodyTemplate: p(
        'Hello {{instructorName}},',
        '{{customerName}} is booked with you for <strong>{{meetingTitle}}</strong> on {{startDate}} ({{trainingType}}).',
        '{{sessionList}}',
        'Where: {{location}}',
        'Thank you,<br>{{siteName}}',
      ),
    },
  },
  rescheduled: {
    customer: {
      subject: '{{siteName}}: "{{meetingTitle}}" moved to {{startDate}}',
      bodyTemplate: p(
        'Hello {{customerName}},',
        'Your session <strong>{{meetingTitle}}</strong> with {{instructorName}} has moved from {{previousStartDate}} to <strong>{{startDate}}</strong>.',
        '{{sessionList}}',
        'Where: {{location}}',
        'The attached calendar update moves it in your calendar.',
        'Thank you,<br>{{siteName}}',
      ),
    },
    instructor: {
      subject: '{{siteName}}: "{{meetingTitle}}" with {{customerName}} moved to {{startDate}}',
      bodyTemplate: p(
        'Hello {{instructorName}},',
        'Your session <strong>{{meetingTitle}}</strong> with {{customerName}} has moved from {{previousStartDate}} to <strong>{{startDate}}</strong>.',
        '{{sessionList}}',
        'Where: {{location}}',
        'Thank you,<br>{{siteName}}',
      ),
    },
  },
  changed: {
    customer: {
      subject: '{{siteName}}: "{{meetingTitle}}" on {{startDate}} is now {{trainingType}}',
      bodyTemplate: p(
        'Hello {{customerName}},',
        'How you join <strong>{{meetingTitle}}</strong> with {{instructorName}} on {{startDate}} has changed: it is now {{trainingType}}.',
        '{{sessionList}}',
        'Where: {{location}}',
        'Thank you,<br>{{siteName}}',
      ),
    },
    instructor: {
      subject: '{{siteName}}: "{{meetingTitle}}" with {{customerName}} is now {{trainingType}}',
      bodyTemplate: p(
        'Hello {{instructorName}},',
        'Your session <strong>{{meetingTitle}}</strong> with {{customerName}} on {{startDate}} is now {{trainingType}}.',
        '{{sessionList}}',
        'Where: {{location}}',
        'Thank you,<br>{{siteName}}',
      ),
    },
  },
  reinstated: {
    customer: {
      subject: '{{siteName}}: "{{meetingTitle}}" on {{startDate}} is back on',
      bodyTemplate: p(
        'Hello {{customerName}},',
        'Good news: your session <strong>{{meetingTitle}}</strong> with {{instructorName}} on {{startDate}} is back on.',
        '{{sessionList}}',
        'Where: {{location}}',
        'The attached calendar invitation puts it back in your calendar.',
        'See you there,<br>{{siteName}}',
      ),
    },
    instructor: {
      subject: '{{siteName}}: "{{meetingTitle}}" with {{customerName}} is back on',
      bodyTemplate: p(
        'Hello {{instructorName}},',
        'Your session <strong>{{meetingTitle}}</strong> with {{customerName}} on {{startDate}} is back on.',
        '{{sessionList}}',
        'Thank you,<br>{{siteName}}',
      ),
    },
  },
  reminder: {
    customer: {
      subject: '{{siteName}}: reminder, "{{meetingTitle}}" on {{startDate}}',
      bodyTemplate: p(
        'Hello {{customerName}},',
        'A reminder: <strong>{{meetingTitle}}</strong> with {{instructorName}} starts on {{startDate}}.',
        'Your own link to join is below.',
        'See you there,<br>{{siteName}}',
      ),
    },
    instructor: {
      subject: '{{siteName}}: reminder, "{{meetingTitle}}" with {{customerName}} on {{startDate}}',
      bodyTemplate: p(
        'Hello {{instructorName}},',
        'A reminder: <strong>{{meetingTitle}}</strong> with {{customerName}} starts on {{startDate}}.',
        'Your own link to join is below.',
        'Thank you,<br>{{siteName}}',
      ),
    },
  },
} as const satisfies Record<string, Roles>;

const es = {
  cancelled: {
    customer: {
      subject: '{{siteName}}: tu sesión "{{meetingTitle}}" ha sido cancelada',
      bodyTemplate: p(
        'Hola {{customerName}}:',
        'Tu sesión <strong>{{meetingTitle}}</strong> con {{instructorName}}, prevista para el {{startDate}}, ha sido cancelada.',
        '{{reason}}',
        '{{sessionList}}',
        'Gracias,<br>{{siteName}}',
      ),
    },
    instructor: {
      subject: '{{siteName}}: tu sesión "{{meetingTitle}}" con {{customerName}} ha sido cancelada',
      bodyTemplate: p(
        'Hola {{instructorName}}:',
        'Tu sesión <strong>{{meetingTitle}}</strong> con {{customerName}}, prevista para el {{startDate}}, ha sido cancelada.',
        '{{reason}}',
        '{{sessionList}}',
        'Gracias,<br>{{siteName}}',
      ),
    },
  },
  booked: {
    customer: {
      subject: '{{siteName}}: reserva confirmada, "{{meetingTitle}}" el {{startDate}}',
      bodyTemplate: p(
        'Hola {{customerName}}:',
        'Has reservado la sesión <strong>{{meetingTitle}}</strong> con {{instructorName}} para el {{startDate}} ({{trainingType}}).',
        '{{sessionList}}',
        'Dónde: {{location}}',
        'La invitación de calendario adjunta la añade a tu calendario.',
        'Nos vemos,<br>{{siteName}}',
      ),
    },
    instructor: {
      subject: '{{siteName}}: nueva sesión "{{meetingTitle}}" con {{customerName}} el {{startDate}}',
      bodyTemplate: p(
        'Hola {{instructorName}}:',
        '{{customerName}} ha reservado contigo la sesión <strong>{{meetingTitle}}</strong> para el {{startDate}} ({{trainingType}}).',
        '{{sessionList}}',
        'Dónde: {{location}}',
        'Gracias,<br>{{siteName}}',
      ),
    },
  },
  rescheduled: {
    customer: {
      subject: '{{siteName}}: "{{meetingTitle}}" se ha movido al {{startDate}}',
      bodyTemplate: p(
        'Hola {{customerName}}:',
        'Tu sesión <strong>{{meetingTitle}}</strong> con {{instructorName}} se ha movido del {{previousStartDate}} al <strong>{{startDate}}</strong>.',
        '{{sessionList}}',
        'Dónde: {{location}}',
        'La actualización de calendario adjunta la mueve en tu calendario.',
        'Gracias,<br>{{siteName}}',
      ),
    },
    instructor: {
      subject: '{{siteName}}: "{{meetingTitle}}" con {{customerName}} se ha movido al {{startDate}}',
      bodyTemplate: p(
        'Hola {{instructorName}}:',
        'Tu sesión <strong>{{meetingTitle}}</strong> con {{customerName}} se ha movido del {{previousStartDate}} al <strong>{{startDate}}</strong>.',
        '{{sessionList}}',
        'Dónde: {{location}}',
        'Gracias,<br>{{siteName}}',
      ),
    },
  },
  changed: {
    customer: {
      subject: '{{siteName}}: "{{meetingTitle}}" del {{startDate}} ahora es {{trainingType}}',
      bodyTemplate: p(
        'Hola {{customerName}}:',
        'Ha cambiado la forma de unirte a <strong>{{meetingTitle}}</strong> con {{instructorName}} el {{startDate}}: ahora es {{trainingType}}.',
        '{{sessionList}}',
        'Dónde: {{location}}',
        'Gracias,<br>{{siteName}}',
      ),
    },
    instructor: {
      subject: '{{siteName}}: "{{meetingTitle}}" con {{customerName}} ahora es {{trainingType}}',
      bodyTemplate: p(
        'Hola {{instructorName}}:',
        'Tu sesión <strong>{{meetingTitle}}</strong> con {{customerName}} el {{startDate}} ahora es {{trainingType}}.',
        '{{sessionList}}',
        'Dónde: {{location}}',
        'Gracias,<br>{{siteName}}',
      ),
    },
  },
  reinstated: {
    customer: {
      subject: '{{siteName}}: "{{meetingTitle}}" del {{startDate}} vuelve a estar programada',
      bodyTemplate: p(
        'Hola {{customerName}}:',
        'Buenas noticias: tu sesión <strong>{{meetingTitle}}</strong> con {{instructorName}} del {{startDate}} vuelve a estar programada.',
        '{{sessionList}}',
        'Dónde: {{location}}',
        'La invitación de calendario adjunta la vuelve a poner en tu calendario.',
        'Nos vemos,<br>{{siteName}}',
      ),
    },
    instructor: {
      subject: '{{siteName}}: "{{meetingTitle}}" con {{customerName}} vuelve a estar programada',
      bodyTemplate: p(
        'Hola {{instructorName}}:',
        'Tu sesión <strong>{{meetingTitle}}</strong> con {{customerName}} del {{startDate}} vuelve a estar programada.',
        '{{sessionList}}',
        'Gracias,<br>{{siteName}}',
      ),
    },
  },
  reminder: {
    customer: {
      subject: '{{siteName}}: recordatorio, "{{meetingTitle}}" el {{startDate}}',
      bodyTemplate: p(
        'Hola {{customerName}}:',
        'Te recordamos que <strong>{{meetingTitle}}</strong> con {{instructorName}} empieza el {{startDate}}.',
        'Tu enlace personal para unirte está más abajo.',
        'Nos vemos,<br>{{siteName}}',
      ),
    },
    instructor: {
      subject: '{{siteName}}: recordatorio, "{{meetingTitle}}" con {{customerName}} el {{startDate}}',
      bodyTemplate: p(
        'Hola {{instructorName}}:',
        'Te recordamos que <strong>{{meetingTitle}}</strong> con {{customerName}} empieza el {{startDate}}.',
        'Tu enlace personal para unirte está más abajo.',
        'Gracias,<br>{{siteName}}',
      ),
    },
  },
} as const satisfies Record<string, Roles>;

/** The built-in templates other than the English cancellation (the cancellation settings' own). */
export const builtInTemplates = { en, es } as const;

/** The heading of the reader's own join links, added below the message as it is sent (join links are never stored). */
export const joinLinkHeadings = {
  en: {
    one: 'Your own link to the session (do not share it)',
    many: 'Your own links to the sessions (do not share them)',
  },
  es: {
    one: 'Tu enlace personal a la sesión (no lo compartas)',
    many: 'Tus enlaces personales a las sesiones (no los compartas)',
  },
} as const;

/** How each language names the training types, filling `{{trainingType}}`. */
export const trainingTypeNames = {
  en: { '1-1': 'a video call in the app', link: 'an outside link' },
  es: { '1-1': 'una videollamada en la aplicación', link: 'un enlace externo' },
} as const;
