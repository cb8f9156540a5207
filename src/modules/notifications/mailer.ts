import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../server/config.js';
import { PermanentJobError } from '../../jobs/job.types.js';

export interface MailMessage {
  to: string;
  subject: string;
  /** Plain text, UTF-8. */
  text: string;
}

/** What a send did: `sent: false` only when this deployment sends no mail at all. */
export interface SendOutcome {
  sent: boolean;
  messageId?: string;
  detail: string;
}

/** Sends mail; a failure throws (the job retries). */
export interface Mailer {
  readonly kind: 'smtp' | 'none';
  send(message: MailMessage, options?: { signal?: AbortSignal }): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** `SIGIL_MAILER=none`: no mail leaves the server; each job records that nothing was sent. */
export class NoneMailer implements Mailer {
  readonly kind = 'none' as const;
  async send(): Promise<SendOutcome> {
    return { sent: false, detail: 'SIGIL_MAILER=none: no mail was sent' };
  }
  async close(): Promise<void> {}
}

interface SmtpError {
  responseCode?: number;
  command?: string;
}

/**
 * Mail over SMTP (nodemailer), to the server in `SIGIL_SMTP_URL`
 * (`smtp://user:pass@host:587`, STARTTLS when offered; `smtps://…:465` for TLS from the start).
 */
export class SmtpMailer implements Mailer {
  readonly kind = 'smtp' as const;
  private readonly transport: Transporter;

  constructor(options: { url: string; from: string; timeoutMs?: number }) {
    const timeout = options.timeoutMs ?? 15_000;
    this.transport = nodemailer.createTransport(
      { url: options.url, connectionTimeout: timeout, greetingTimeout: timeout, socketTimeout: timeout * 2 },
      { from: options.from },
    );
  }

  async send(message: MailMessage): Promise<SendOutcome> {
    try {
      const info = (await this.transport.sendMail({ to: message.to, subject: message.subject, text: message.text, textEncoding: 'base64' })) as { messageId?: string; response?: string };
      return { sent: true, ...(info.messageId ? { messageId: info.messageId } : {}), detail: info.response ?? 'accepted' };
    } catch (error) {
      const smtp = error as SmtpError;
      // The server refused the recipient for good (550 no such mailbox…): retrying cannot help.
      if (smtp.responseCode !== undefined && smtp.responseCode >= 550 && smtp.responseCode < 560 && smtp.command?.startsWith('RCPT')) {
        throw new PermanentJobError(`the mail server refused ${message.to}: ${(error as Error).message}`, { cause: error });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** The mailer chosen by `SIGIL_MAILER` (validated at start-up, with its URL and sender). */
export function createMailer(config: Pick<Config, 'mail'>): Mailer {
  const { mail } = config;
  switch (mail.mailer) {
    case 'none':
      return new NoneMailer();
    case 'smtp':
      if (!mail.smtpUrl || !mail.from) throw new Error('SIGIL_MAILER=smtp needs SIGIL_SMTP_URL and SIGIL_MAIL_FROM');
      return new SmtpMailer({ url: mail.smtpUrl, from: mail.from });
  }
}
