import { ref, shallowRef } from 'vue';
import type { CallHandle, ChatDelivery, ChatMessage } from './engine/call.ts';

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
  /** Sends `text` (again, for a retry: under its `id`); answers why not ('empty', 'too_long', 'offline'). */
  const send = (text: string, id?: string): 'empty' | 'too_long' | 'offline' | undefined => {
    const call = handle.value;
    if (call === undefined) return 'offline';
    const result = call.sendChat(text, id === undefined ? undefined : { id });
    if (!result.ok) return result.reason;
    const entry: ChatEntry = { message: result.message, delivery: 'sending' };
    const at = id === undefined ? -1 : entries.value.findIndex((e) => e.message.from === 'me' && e.message.id === id);
    entries.value = at < 0 ? kept([...entries.value, entry]) : entries.value.map((e, i) => (i === at ? entry : e));
    return undefined;
  };
  /**
   * A message that was not delivered goes again, in its place, under the same id: the partner, who may have had it
   * after all (only the ack was lost), shows it once and acks again.
   */
  const retry = (id: string) => {
    const failed = entries.value.find((e) => e.message.from === 'me' && e.message.id === id && e.delivery === 'failed');
    if (failed === undefined) return;
    send(failed.message.text, id);
  };
  const toggle = (value = !open.value) => {
    open.value = value;
    if (value) unread.value = 0;
  };
  return { entries, open, unread, announced, handle, received, delivered, send, retry, toggle };
};

export type Chat = ReturnType<typeof useChat>;
