import * as E from 'fp-ts/lib/Either.js';
import type { Mailer, MailMessage } from '../../application/ports/mailer.ts';

/** A mailer that keeps what it sends and, while `held`, answers only when released. */
export const recordingMailer = () => {
  const sent: MailMessage[] = [];
  let gate: Promise<void> | undefined;
  let open: () => void = () => {};
  const mailer: Mailer = {
    name: 'recording',
    send: async (message) => {
      if (gate !== undefined) await gate;
      sent.push(message);
      return E.right({ providerMessageId: `m-${sent.length}` });
    },
  };
  return {
    mailer,
    sent,
    hold: () => {
      gate = new Promise((resolve) => (open = resolve));
    },
    release: () => {
      gate = undefined;
      open();
    },
  };
};
