import type { Transporter } from 'nodemailer';
import type { Config } from '../server/config.js';
import { PermanentJobError } from '../jobs/job.types.js';

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
  /** Made by the first send: nodemailer is loaded then, not at server start. */
  private transport: Promise<Transporter> | undefined;

  constructor(private readonly options: { url: string; from: string; timeoutMs?: number }) {}

  private connect(): Promise<Transporter> {
    const { url, from, timeoutMs: timeout = 15_000 } = this.options;
    // Pooled: a busy morning of approvals sends hundreds of mails a minute, and a connection per
    // mail (TCP, greeting, STARTTLS, AUTH, QUIT) kept the queue behind them. Up to 5 connections,
    // each renewed after 100 messages.
    this.transport ??= import('nodemailer').then(({ default: nodemailer }) =>
      nodemailer.createTransport(
        {
          url,
          pool: true,
          maxConnections: 5,
          maxMessages: 100,
          connectionTimeout: timeout,
          greetingTimeout: timeout,
          socketTimeout: timeout * 2,
        },
        { from },
      ),
    );
    return this.transport;
  }

  async send(message: MailMessage): Promise<SendOutcome> {
    const transport = await this.connect();
    try {
      const info = (await transport.sendMail({
        to: message.to,
        subject: message.subject,
        text: message.text,
        textEncoding: 'base64',
      })) as { messageId?: string; response?: string };
      return {
        sent: true,
        ...(info.messageId ? { messageId: info.messageId } : {}),
        detail: info.response ?? 'accepted',
      };
    } catch (error) {
      const smtp = error as SmtpError;
      // The server refused the recipient for good (550 no such mailbox…): retrying cannot help.
      if (
        smtp.responseCode !== undefined &&
        smtp.responseCode >= 550 &&
        smtp.responseCode < 560 &&
        smtp.command?.startsWith('RCPT')
      ) {
        throw new PermanentJobError(`the mail server refused ${message.to}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    // A transport that could not be made has nothing to close.
    const transport = await this.transport?.catch(() => undefined);
    transport?.close();
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
