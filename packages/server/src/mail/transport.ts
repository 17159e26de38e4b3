// How mails leave Hearth: SMTP (nodemailer) when a URL is configured, otherwise "record" mode,
// where the mail is only kept in the outbox (status `recorded`) and logged, for local development
// and tests (codes and links in the text are meant to be read from the log or the admin API).

import nodemailer from 'nodemailer';
import type { Logger } from '../jobs/logger.js';

export interface OutgoingMail {
  /** The outbox id, for logs. */
  id?: string;
  to: string;
  /** Absent or null → the transport's default sender. */
  from?: string | null;
  subject: string;
  text: string;
  html?: string | null;
  template?: string;
}

export interface MailTransport {
  readonly kind: 'smtp' | 'record';
  /** Resolves once the SMTP server accepted the mail (or it was recorded); rejects otherwise. */
  send(mail: OutgoingMail): Promise<{ status: 'sent' | 'recorded'; messageId?: string }>;
  close(): void;
}

export interface MailTransportOptions {
  /** `smtp://[user:pass@]host[:port]` (no TLS) or `smtps://…` (implicit TLS); absent → record. */
  smtpUrl?: string;
  /** Default sender, e.g. `Hearth <noreply@example.net>`. */
  from: string;
  logger: Logger;
  /** Connection, greeting and socket timeouts (default 10 s). */
  timeoutMs?: number;
}

export function createMailTransport(opts: MailTransportOptions): MailTransport {
  if (opts.smtpUrl) return createSmtpTransport(opts.smtpUrl, opts);
  return createRecordTransport(opts);
}

function createRecordTransport(opts: MailTransportOptions): MailTransport {
  return {
    kind: 'record',
    async send(mail) {
      opts.logger.info(
        {
          mailId: mail.id,
          to: mail.to,
          subject: mail.subject,
          template: mail.template,
          text: mail.text,
        },
        `mail recorded (no SMTP server): "${mail.subject}" to ${mail.to}`,
      );
      return { status: 'recorded' };
    },
    close() {},
  };
}

function createSmtpTransport(smtpUrl: string, opts: MailTransportOptions): MailTransport {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new Error('invalid SMTP URL');
  }
  const secure = url.protocol === 'smtps:';
  if (!secure && url.protocol !== 'smtp:') throw new Error('the SMTP URL must start with smtp:// or smtps://');
  const timeout = opts.timeoutMs ?? 10_000;
  const user = decodeURIComponent(url.username);
  const transporter = nodemailer.createTransport({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 465 : 25,
    secure,
    // Plain smtp:// means no TLS at all, not even an opportunistic STARTTLS.
    ignoreTLS: !secure,
    ...(user ? { auth: { user, pass: decodeURIComponent(url.password) } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  const where = `${url.protocol}//${url.host}`; // never the credentials
  return {
    kind: 'smtp',
    async send(mail) {
      const info = await transporter.sendMail({
        from: mail.from ?? opts.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        ...(mail.html ? { html: mail.html } : {}),
      });
      opts.logger.info({ mailId: mail.id, to: mail.to, template: mail.template, smtp: where }, 'mail sent');
      return { status: 'sent', messageId: info.messageId };
    },
    close() {
      transporter.close();
    },
  };
}
