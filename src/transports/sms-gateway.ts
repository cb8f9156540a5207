import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Config } from '../server/config.js';
import type { SendOutcome } from './mailer.js';

export interface SmsMessage {
  /** The phone number as the user gave it. */
  to: string;
  text: string;
}

/** Sends text messages; a failure throws (the job retries). */
export interface SmsGateway {
  readonly kind: 'none' | 'file' | 'http';
  send(message: SmsMessage, options?: { signal?: AbortSignal }): Promise<SendOutcome>;
}

/** `SIGIL_SMS=none`: no message leaves the server; each job records that nothing was sent. */
export class NoneSmsGateway implements SmsGateway {
  readonly kind = 'none' as const;
  async send(): Promise<SendOutcome> {
    return { sent: false, detail: 'SIGIL_SMS=none: no text message was sent' };
  }
}

/**
 * For development: appends each message as a JSON line to a file (`<data>/sms-outbox.jsonl`)
 * instead of sending it. Nothing reaches a phone.
 */
export class FileSmsGateway implements SmsGateway {
  readonly kind = 'file' as const;
  constructor(
    readonly file: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async send(message: SmsMessage): Promise<SendOutcome> {
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(
      this.file,
      `${JSON.stringify({ at: this.now().toISOString(), to: message.to, text: message.text })}\n`,
      'utf8',
    );
    return { sent: true, detail: `written to ${this.file} (not sent to a phone)` };
  }
}

const MAX_ANSWER_CHARS = 300;

/**
 * A provider's HTTP API: POST `{"to", "text"}` as JSON with `Authorization: Bearer <token>`.
 * Any answer but 2xx, a network error or no answer within the timeout is a failure, and
 * the job retries. A JSON answer's `id` (or `messageId`) is kept as the message id.
 */
export class HttpSmsGateway implements SmsGateway {
  readonly kind = 'http' as const;
  constructor(private readonly options: { url: string; token: string; timeoutMs: number }) {}

  async send(message: SmsMessage, options: { signal?: AbortSignal } = {}): Promise<SendOutcome> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.options.token}` },
        body: JSON.stringify({ to: message.to, text: message.text }),
        signal,
        redirect: 'error',
      });
    } catch (error) {
      if (timeout.aborted)
        throw new Error(`the SMS gateway did not answer within ${this.options.timeoutMs} ms`, { cause: error });
      throw new Error(`the SMS gateway could not be reached: ${(error as Error).message}`, { cause: error });
    }
    const answer = (await response.text().catch(() => '')).slice(0, MAX_ANSWER_CHARS);
    if (!response.ok) throw new Error(`the SMS gateway answered ${response.status}${answer ? `: ${answer}` : ''}`);
    let messageId: string | undefined;
    try {
      const parsed = JSON.parse(answer) as { id?: unknown; messageId?: unknown };
      const id = parsed.id ?? parsed.messageId;
      if (typeof id === 'string' || typeof id === 'number') messageId = String(id);
    } catch {
      // A plain-text answer is fine: 2xx is what counts.
    }
    return { sent: true, ...(messageId ? { messageId } : {}), detail: `the gateway answered ${response.status}` };
  }
}

/** The gateway chosen by `SIGIL_SMS` (validated at start-up, with its URL and token). */
export function createSmsGateway(config: Pick<Config, 'sms'>): SmsGateway {
  const { sms } = config;
  switch (sms.gateway) {
    case 'none':
      return new NoneSmsGateway();
    case 'file':
      return new FileSmsGateway(sms.outboxFile);
    case 'http':
      if (!sms.url || !sms.token) throw new Error('SIGIL_SMS=http needs SIGIL_SMS_URL and SIGIL_SMS_TOKEN');
      return new HttpSmsGateway({ url: sms.url, token: sms.token, timeoutMs: sms.timeoutMs });
  }
}
