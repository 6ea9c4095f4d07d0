import { mkdir, writeFile, rename } from 'node:fs/promises';
import { extname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import type { Log } from '../../application/ports/logger.ts';
import type { Mailer } from '../../application/ports/mailer.ts';

const safeName = (key: string): string => key.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 128) || 'message';

const writeAtomically = async (path: string, content: string): Promise<void> => {
  const temp = `${path}.tmp`;
  await writeFile(temp, content, { mode: 0o600 });
  await rename(temp, path);
};

/**
 * Development mailer (no RESEND_API_KEY): every email becomes files in `dir` named by its idempotency key —
 * `<key>.html`, `.txt`, one file per attachment by extension (`.ics`) and `.json` with the envelope — and one log line.
 * Writing by key makes a repeated send overwrite the same files, as the provider would answer a repeat.
 */
export const createOutboxMailer = (options: { dir: string; logger: Log }): Mailer => ({
  name: 'outbox',
  send: async (message) => {
    const base = safeName(message.idempotencyKey);
    try {
      await mkdir(options.dir, { recursive: true });
      const attachments: string[] = [];
      for (const [index, attachment] of message.attachments.entries()) {
        const ext = extname(attachment.filename).replace(/[^A-Za-z0-9.]/g, '') || '.bin';
        const file = `${base}${index === 0 ? '' : `-${index}`}${ext}`;
        await writeAtomically(join(options.dir, file), attachment.content);
        attachments.push(file);
      }
      await writeAtomically(join(options.dir, `${base}.html`), message.html);
      await writeAtomically(join(options.dir, `${base}.txt`), message.text);
      const envelope = {
        idempotencyKey: message.idempotencyKey,
        from: message.from,
        to: message.to,
        subject: message.subject,
        attachments: message.attachments.map((a, i) => ({
          filename: a.filename,
          contentType: a.contentType,
          file: attachments[i],
        })),
      };
      await writeAtomically(join(options.dir, `${base}.json`), `${JSON.stringify(envelope, null, 2)}\n`);
      options.logger.info(
        { to: message.to, subject: message.subject, file: join(options.dir, `${base}.html`) },
        'email written to the dev outbox (RESEND_API_KEY is not set)',
      );
      return E.right({ providerMessageId: `outbox:${message.idempotencyKey}` });
    } catch (error) {
      return E.left({
        retryable: true,
        message: `cannot write to the outbox ${options.dir}: ${(error as Error).message}`,
      });
    }
  },
});
