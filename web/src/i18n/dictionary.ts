import type { ProblemCode } from '../api';
import type { MessageKey } from './messages.en';

export type { MessageKey, ProblemCode };

/** One language's strings: every message, and the meaning of the server's problem codes where its `detail` is not in this language. */
export interface Dictionary {
  messages: Record<MessageKey, string>;
  /** A problem's wording, by code; a language without one for a code shows the server's `detail`. */
  problems: Partial<Record<ProblemCode, string>>;
}
