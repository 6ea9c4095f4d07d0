import { ref, shallowRef } from 'vue';
import type { CallHandle, ChatDelivery, ChatMessage } from './engine/call';

export interface ChatEntry {
  readonly message: ChatMessage;
  /** For my own messages. */
  readonly delivery?: ChatDelivery;
}

/** The chat keeps the latest messages only: a long call does not grow the page without end. */
export const CHAT_KEPT = 500;
const kept = (entries: ChatEntry[]): ChatEntry[] =>
  entries.length > CHAT_KEPT ? entries.slice(entries.length - CHAT_KEPT) : entries;

/** The chat of one page: messages both ways, my messages' delivery, the unread count and what to announce. */
export const useChat = () => {
  const entries = ref<ChatEntry[]>([]);
  const open = ref(false);
  const unread = ref(0);
  /** The latest partner message, for the aria-live region. */
  const announced = ref<ChatMessage | undefined>();
  const handle = shallowRef<CallHandle | undefined>();

  const received = (message: ChatMessage) => {
    entries.value = kept([...entries.value, { message }]);
    announced.value = message;
    if (!open.value) unread.value += 1;
  };
  const delivered = (id: string, delivery: ChatDelivery) => {
    entries.value = entries.value.map((e) => (e.message.id === id && e.message.from === 'me' ? { ...e, delivery } : e));
  };
  /** Sends `text`; answers why not ('empty', 'too_long', 'offline') or undefined when it went out. */
  const send = (text: string): 'empty' | 'too_long' | 'offline' | undefined => {
    const call = handle.value;
    if (call === undefined) return 'offline';
    const result = call.sendChat(text);
    if (!result.ok) return result.reason;
    entries.value = kept([...entries.value, { message: result.message, delivery: 'sending' }]);
    return undefined;
  };
  /** A message that was not delivered goes again (as a new message, in its place at the end). */
  const retry = (id: string) => {
    const failed = entries.value.find((e) => e.message.id === id && e.delivery === 'failed');
    if (failed === undefined) return;
    entries.value = entries.value.filter((e) => e !== failed);
    if (send(failed.message.text) !== undefined) entries.value = [...entries.value, failed];
  };
  const toggle = (value = !open.value) => {
    open.value = value;
    if (value) unread.value = 0;
  };
  return { entries, open, unread, announced, handle, received, delivered, send, retry, toggle };
};

export type Chat = ReturnType<typeof useChat>;
