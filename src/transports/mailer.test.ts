import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentJobError } from '../jobs/job.types.js';
import { SmtpMailer } from './mailer.js';

let server: SMTPServer;
let port: number;
let connections = 0;
const delivered: string[] = [];

beforeAll(async () => {
  server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onConnect(_session, callback) {
      connections += 1;
      callback();
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('nobody@')) {
        const refused = new Error('no such mailbox') as Error & { responseCode: number };
        refused.responseCode = 550;
        callback(refused);
      } else callback();
    },
    onData(stream, session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        delivered.push(...session.envelope.rcptTo.map((r) => r.address));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('SmtpMailer', () => {
  it('sends one message after another over one connection it keeps', async () => {
    const mailer = new SmtpMailer({ url: `smtp://127.0.0.1:${port}`, from: 'sigil@example.test' });
    const before = connections;
    try {
      for (let i = 0; i < 10; i++) {
        const outcome = await mailer.send({ to: `user${i}@example.test`, subject: `审批 ${i}`, text: '请审批' });
        expect(outcome.sent).toBe(true);
      }
    } finally {
      await mailer.close();
    }
    expect(delivered.filter((to) => to.startsWith('user'))).toHaveLength(10);
    expect(connections - before).toBe(1);
  });

  it('gives up for good on a recipient the server refuses, and keeps sending to the others', async () => {
    const mailer = new SmtpMailer({ url: `smtp://127.0.0.1:${port}`, from: 'sigil@example.test' });
    try {
      await expect(mailer.send({ to: 'nobody@example.test', subject: 'x', text: 'x' })).rejects.toBeInstanceOf(
        PermanentJobError,
      );
      expect((await mailer.send({ to: 'after@example.test', subject: 'x', text: 'x' })).sent).toBe(true);
    } finally {
      await mailer.close();
    }
    expect(delivered).toContain('after@example.test');
  });

  it('fails an attempt, to be retried, when no mail server answers', async () => {
    const mailer = new SmtpMailer({ url: 'smtp://127.0.0.1:1', from: 'sigil@example.test', timeoutMs: 2_000 });
    try {
      const failure = await mailer
        .send({ to: 'user@example.test', subject: 'x', text: 'x' })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect(failure).not.toBeInstanceOf(PermanentJobError);
    } finally {
      await mailer.close();
    }
  });
});
