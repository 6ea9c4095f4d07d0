import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createOutboxMailer } from '../../../adapters/mail/outbox.ts';
import { tempDir } from '../../support/system.ts';

const dir = tempDir('outbox-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines: Array<{ details: object; message: string }> = [];
const logger = {
  info: (details: object, message: string) => lines.push({ details, message }),
  warn: () => {},
  error: () => {},
  debug: () => {},
};

describe('dev outbox mailer', () => {
  it('writes HTML, text, the .ics and an envelope named by the key, and logs one line', async () => {
    const mailer = createOutboxMailer({ dir: join(dir, 'outbox'), logger });
    const message = {
      idempotencyKey: 'abc123',
      from: 'Virtual Y <no-reply@localhost>',
      to: 'cora@example.com',
      subject: 'Cancelled',
      html: '<p>Cancelled</p>',
      text: 'Cancelled',
      attachments: [
        { filename: 'cancellation.ics', content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n', contentType: 'text/calendar' },
      ],
    };
    const sent = await mailer.send(message);
    expect(sent).toEqual(E.right({ providerMessageId: 'outbox:abc123' }));
    const out = join(dir, 'outbox');
    expect(readFileSync(join(out, 'abc123.html'), 'utf8')).toBe('<p>Cancelled</p>');
    expect(readFileSync(join(out, 'abc123.txt'), 'utf8')).toBe('Cancelled');
    expect(readFileSync(join(out, 'abc123.ics'), 'utf8')).toContain('BEGIN:VCALENDAR');
    expect(JSON.parse(readFileSync(join(out, 'abc123.json'), 'utf8'))).toMatchObject({
      to: 'cora@example.com',
      subject: 'Cancelled',
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.details).toMatchObject({ to: 'cora@example.com', subject: 'Cancelled' });
    // Sending the same key again overwrites the same files.
    await mailer.send(message);
    expect(readdirSync(out).sort()).toEqual(['abc123.html', 'abc123.ics', 'abc123.json', 'abc123.txt']);
  });

  it('reports an unwritable outbox as a retryable error, never as sent', async () => {
    const blocker = join(dir, 'not-a-directory');
    writeFileSync(blocker, 'a file where the outbox directory should go');
    const mailer = createOutboxMailer({ dir: join(blocker, 'outbox'), logger });
    const result = await mailer.send({
      idempotencyKey: 'x',
      from: 'a',
      to: 'b',
      subject: 's',
      html: '',
      text: '',
      attachments: [],
    });
    expect(E.isLeft(result) && result.left.retryable).toBe(true);
    expect(existsSync(join(blocker, 'outbox'))).toBe(false);
  });
});
