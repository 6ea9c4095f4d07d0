import { describe, expect, it } from 'vitest';
import { CHAT_KEPT, useChat } from '../../../adapters/web/src/features/call/chat.ts';
import type { CallHandle, ChatMessage, SendChatOptions } from '../../../adapters/web/src/features/call/engine/call.ts';

/** A call handle that records what the chat sent. */
const fakeCall = () => {
  const sent: Array<{ text: string; id: string | undefined }> = [];
  let n = 0;
  const handle = {
    sendChat: (text: string, options?: SendChatOptions) => {
      sent.push({ text, id: options?.id });
      n += 1;
      const message: ChatMessage = { id: options?.id ?? `m${n}`, text, sentAt: new Date().toISOString(), from: 'me' };
      return { ok: true as const, message };
    },
  } as unknown as CallHandle;
  return { handle, sent };
};

const partner = (id: string, text = 'hi'): ChatMessage => ({
  id,
  text,
  sentAt: '2000-01-01T00:00:00.000Z',
  receivedAt: new Date().toISOString(),
  from: 'partner',
});

describe('the call page’s chat', () => {
  it('sends a message that was not delivered again under the same id, in its place', () => {
    const chat = useChat();
    const { handle, sent } = fakeCall();
    chat.handle.value = handle;
    expect(chat.send('first')).toBeUndefined();
    expect(chat.send('second')).toBeUndefined();
    chat.delivered('m1', 'failed');
    chat.retry('m1');
    expect(sent).toEqual([
      { text: 'first', id: undefined },
      { text: 'second', id: undefined },
      { text: 'first', id: 'm1' },
    ]);
    expect(chat.entries.value.map((e) => [e.message.id, e.message.text, e.delivery])).toEqual([
      ['m1', 'first', 'sending'],
      ['m2', 'second', 'sending'],
    ]);
    // Only a message of mine that failed goes again: not one still on its way.
    chat.received(partner('m2'));
    chat.retry('m2');
    expect(sent).toHaveLength(3);
  });

  it('keeps a partner message and mine of the same id apart, and only the latest messages', () => {
    const chat = useChat();
    const { handle } = fakeCall();
    chat.handle.value = handle;
    chat.send('mine');
    chat.received(partner('m1', 'theirs'));
    chat.delivered('m1', 'delivered');
    expect(chat.entries.value.map((e) => [e.message.from, e.delivery])).toEqual([
      ['me', 'delivered'],
      ['partner', undefined],
    ]);
    for (let i = 0; i < CHAT_KEPT + 20; i++) chat.received(partner(`p${i}`));
    expect(chat.entries.value).toHaveLength(CHAT_KEPT);
    expect(chat.entries.value.at(-1)?.message.id).toBe(`p${CHAT_KEPT + 19}`);
    expect(chat.entries.value[0]?.message.id).toBe('p20');
    expect(chat.unread.value).toBe(CHAT_KEPT + 21);
  });
});
