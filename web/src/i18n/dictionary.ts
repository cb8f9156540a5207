import type { MessageKey } from './messages.en';

export type { MessageKey };

/** One language's strings: every message, and the meaning of the server's problem codes where its `detail` is not in this language. */
export interface Dictionary {
  messages: Record<MessageKey, string>;
  problems: Record<string, string>;
}
