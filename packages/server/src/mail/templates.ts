// Mail templates: renderMail(template, values, { locale }) → { subject, text, html }.
//
// Value names follow the reference implementation (TwoFactorPasscode, EmailUpdateLink, MagicLink,
// Code, Hint, PublicName, BaseURL…); a few short aliases are accepted too (Code, Link). Codes and
// links appear verbatim, alone on their line, in the text part; the HTML part escapes every value.
// A missing code or link is a programming error and throws a MailTemplateError.

import { escapeHtml, safeHref } from '../pages/html.js';
import { pickLocale, type Locale } from '../pages/i18n.js';

interface Common {
  /** The instance's display name; defaults to the host of BaseURL, then "Hearth". */
  PublicName?: string;
  /** `https://<instance domain>` */
  BaseURL?: string;
}

export interface MailValues {
  /** The 6-digit login passcode (reference: TwoFactorPasscode; alias Code). */
  two_factor: Common & { TwoFactorPasscode: string };
  /** The 6-digit code that turns 2FA by mail on (reference: TwoFactorActivationPasscode; alias Code). */
  two_factor_mail_confirmation: Common & { TwoFactorActivationPasscode: string };
  /** The link that confirms a new email address (alias Link). */
  update_email: Common & { EmailUpdateLink: string };
  /** The 6-digit code that certifies the flagship app by hand. */
  confirm_flagship: Common & { Code: string };
  /** The magic sign-in link (alias Link). */
  magic_link: Common & { MagicLink: string };
  /** The link to choose a new password (alias Link). */
  passphrase_reset: Common & { PassphraseResetLink: string };
  /** The saved password hint. */
  passphrase_hint: Common & { Hint: string };
  /** The mail sent when a notification could not be pushed. */
  notification_fallback: Common & { title: string; message?: string; link?: string };
}

export type MailTemplateName = keyof MailValues;

export const MAIL_TEMPLATES = [
  'two_factor',
  'two_factor_mail_confirmation',
  'update_email',
  'confirm_flagship',
  'magic_link',
  'passphrase_reset',
  'passphrase_hint',
  'notification_fallback',
] as const satisfies readonly MailTemplateName[];

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export class MailTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MailTemplateError';
  }
}

// ---------------------------------------------------------------------------------------------
// Strings

interface MailStrings {
  greeting: string;
  signature: string;
  subjects: Record<MailTemplateName, string>;
  two_factor: [string, string];
  two_factor_mail_confirmation: [string, string];
  update_email: [string, string];
  confirm_flagship: [string, string];
  magic_link: [string, string];
  passphrase_reset: [string, string];
  passphrase_hint: [string, string];
  notification_open: string;
  open_link: string;
}

// Each pair: the line before the code/link, the line after it.
const STRINGS: Record<Locale, MailStrings> = {
  en: {
    greeting: 'Hello,',
    signature: 'Sent by {name}.',
    subjects: {
      two_factor: 'Your sign-in code for {name}',
      two_factor_mail_confirmation: 'Turn on two-factor authentication for {name}',
      update_email: 'Confirm your new email address for {name}',
      confirm_flagship: 'Code to confirm the mobile app for {name}',
      magic_link: 'Your sign-in link for {name}',
      passphrase_reset: 'Choose a new password for {name}',
      passphrase_hint: 'Your password hint for {name}',
      notification_fallback: '{title}',
    },
    two_factor: [
      'Here is the code to finish signing in to {name}:',
      'It is valid for about 15 minutes. If you did not try to sign in, someone knows your password: change it.',
    ],
    two_factor_mail_confirmation: [
      'To turn on two-factor authentication for {name}, enter this code:',
      'If you did not ask for it, you can ignore this email.',
    ],
    update_email: [
      'To use this address for {name}, open this link:',
      'The link is valid for 7 days. If you did not ask for this change, you can ignore this email.',
    ],
    confirm_flagship: [
      'To give the mobile app full access to {name}, enter this code:',
      'It is valid for about 5 minutes. If you are not connecting the mobile app, you can ignore this email.',
    ],
    magic_link: [
      'To sign in to {name}, open this link:',
      'It is valid for 15 minutes. If you did not ask to sign in, you can ignore this email.',
    ],
    passphrase_reset: [
      'Someone, probably you, asked to reset the password of {name}. To choose a new password, open this link:',
      'The link is valid for a short time. If you did not ask for it, you can ignore this email: your password does not change.',
    ],
    passphrase_hint: [
      'Here is the hint you saved for the password of {name}:',
      'If you did not ask for it, you can ignore this email.',
    ],
    notification_open: 'Open {name}:',
    open_link: 'Open the link',
  },
  fr: {
    greeting: 'Bonjour,',
    signature: 'Envoyé par {name}.',
    subjects: {
      two_factor: 'Votre code de connexion à {name}',
      two_factor_mail_confirmation: 'Activez l’authentification à deux facteurs de {name}',
      update_email: 'Confirmez votre nouvelle adresse e-mail pour {name}',
      confirm_flagship: 'Code de confirmation de l’application mobile pour {name}',
      magic_link: 'Votre lien de connexion à {name}',
      passphrase_reset: 'Choisissez un nouveau mot de passe pour {name}',
      passphrase_hint: 'L’indice de votre mot de passe pour {name}',
      notification_fallback: '{title}',
    },
    two_factor: [
      'Voici le code pour terminer votre connexion à {name} :',
      'Il est valable environ 15 minutes. Si vous n’avez pas essayé de vous connecter, quelqu’un connaît votre mot de passe : changez-le.',
    ],
    two_factor_mail_confirmation: [
      'Pour activer l’authentification à deux facteurs de {name}, saisissez ce code :',
      'Si vous ne l’avez pas demandé, vous pouvez ignorer cet e-mail.',
    ],
    update_email: [
      'Pour utiliser cette adresse avec {name}, ouvrez ce lien :',
      'Le lien est valable 7 jours. Si vous n’avez pas demandé ce changement, vous pouvez ignorer cet e-mail.',
    ],
    confirm_flagship: [
      'Pour donner à l’application mobile un accès complet à {name}, saisissez ce code :',
      'Il est valable environ 5 minutes. Si vous n’êtes pas en train de connecter l’application mobile, vous pouvez ignorer cet e-mail.',
    ],
    magic_link: [
      'Pour vous connecter à {name}, ouvrez ce lien :',
      'Il est valable 15 minutes. Si vous n’avez pas demandé à vous connecter, vous pouvez ignorer cet e-mail.',
    ],
    passphrase_reset: [
      'Quelqu’un, sans doute vous, a demandé à réinitialiser le mot de passe de {name}. Pour choisir un nouveau mot de passe, ouvrez ce lien :',
      'Le lien est valable peu de temps. Si vous ne l’avez pas demandé, vous pouvez ignorer cet e-mail : votre mot de passe ne change pas.',
    ],
    passphrase_hint: [
      'Voici l’indice que vous avez enregistré pour le mot de passe de {name} :',
      'Si vous ne l’avez pas demandé, vous pouvez ignorer cet e-mail.',
    ],
    notification_open: 'Ouvrir {name} :',
    open_link: 'Ouvrir le lien',
  },
};

function fill(s: string, params: Record<string, string>): string {
  return s.replace(/\{(\w+)\}/g, (m, k: string) => params[k] ?? m);
}

// ---------------------------------------------------------------------------------------------
// Rendering

type Values = Record<string, unknown>;

function pick(values: Values, template: string, keys: string[], required: boolean): string | undefined {
  for (const k of keys) {
    const v = values[k];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number') return String(v);
  }
  if (required) throw new MailTemplateError(`mail template ${template}: missing value ${keys[0]}`);
  return undefined;
}

function displayName(values: Values): string {
  const name = pick(values, '', ['PublicName'], false);
  if (name) return name;
  const base = pick(values, '', ['BaseURL'], false);
  if (base) {
    try {
      return new URL(base).host;
    } catch {
      // fall through
    }
  }
  return 'Hearth';
}

/** The highlighted item of a mail: a code (shown big) or a link (shown as a button and as text). */
type Item = { kind: 'code' | 'text'; value: string } | { kind: 'link'; value: string };

interface Parts {
  subject: string;
  /** Paragraphs before the item. */
  before: string[];
  item?: Item;
  /** Paragraphs after the item. */
  after: string[];
}

function parts(template: MailTemplateName, values: Values, s: MailStrings, name: string): Parts {
  const p = { name };
  const subject = fill(s.subjects[template], p);
  const simple = (pair: [string, string], item: Item): Parts => ({
    subject,
    before: [s.greeting, fill(pair[0], p)],
    item,
    after: [fill(pair[1], p)],
  });
  switch (template) {
    case 'two_factor':
      return simple(s.two_factor, { kind: 'code', value: pick(values, template, ['TwoFactorPasscode', 'Code', 'Passcode'], true) ?? '' });
    case 'two_factor_mail_confirmation':
      return simple(s.two_factor_mail_confirmation, {
        kind: 'code',
        value: pick(values, template, ['TwoFactorActivationPasscode', 'Code', 'Passcode'], true) ?? '',
      });
    case 'update_email':
      return simple(s.update_email, { kind: 'link', value: pick(values, template, ['EmailUpdateLink', 'Link'], true) ?? '' });
    case 'confirm_flagship':
      return simple(s.confirm_flagship, { kind: 'code', value: pick(values, template, ['Code', 'Passcode'], true) ?? '' });
    case 'magic_link':
      return simple(s.magic_link, { kind: 'link', value: pick(values, template, ['MagicLink', 'Link'], true) ?? '' });
    case 'passphrase_reset':
      return simple(s.passphrase_reset, {
        kind: 'link',
        value: pick(values, template, ['PassphraseResetLink', 'Link'], true) ?? '',
      });
    case 'passphrase_hint': {
      const base = simple(s.passphrase_hint, { kind: 'text', value: pick(values, template, ['Hint'], true) ?? '' });
      const url = pick(values, template, ['BaseURL'], false);
      if (url) base.after.unshift(`${fill(s.notification_open, p)} ${url}`);
      return base;
    }
    case 'notification_fallback': {
      const title = pick(values, template, ['title', 'Title'], true) ?? '';
      const message = pick(values, template, ['message', 'Message'], false);
      const link = pick(values, template, ['link', 'Link'], false);
      return {
        subject: fill(s.subjects.notification_fallback, { title }),
        before: [title, ...(message ? [message] : [])],
        item: link ? { kind: 'link', value: link } : undefined,
        after: [],
      };
    }
  }
}

function textPart(p: Parts, signature: string): string {
  const blocks = [...p.before];
  if (p.item) blocks.push(p.item.value);
  blocks.push(...p.after, `-- \n${signature}`);
  return `${blocks.join('\n\n')}\n`;
}

const FONT = 'font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif';

function htmlPart(p: Parts, s: MailStrings, signature: string, locale: Locale): string {
  const para = (t: string) => `<p style="margin:0 0 16px;line-height:1.5">${escapeHtml(t).replace(/\n/g, '<br>')}</p>`;
  let item = '';
  if (p.item?.kind === 'code') {
    item = `<p style="margin:0 0 16px;font-size:28px;font-weight:700;letter-spacing:6px;font-family:ui-monospace,Menlo,Consolas,monospace">${escapeHtml(p.item.value)}</p>`;
  } else if (p.item?.kind === 'text') {
    item = `<p style="margin:0 0 16px;padding:12px 16px;background:#f4f1ec;border-radius:8px;white-space:pre-wrap">${escapeHtml(p.item.value)}</p>`;
  } else if (p.item?.kind === 'link') {
    const href = escapeHtml(safeHref(p.item.value));
    item =
      `<p style="margin:0 0 16px"><a href="${href}" style="display:inline-block;padding:10px 18px;background:#b4441d;color:#ffffff;border-radius:8px;text-decoration:none;font-weight:600">${escapeHtml(s.open_link)}</a></p>` +
      `<p style="margin:0 0 16px;font-size:13px;color:#5f5a52;word-break:break-all"><a href="${href}" style="color:#5f5a52">${escapeHtml(p.item.value)}</a></p>`;
  }
  return `<!DOCTYPE html>
<html lang="${locale}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(p.subject)}</title></head>
<body style="margin:0;padding:24px;background:#ffffff;color:#1f1d1a;${FONT};font-size:16px">
<div style="max-width:560px;margin:0 auto">
${p.before.map(para).join('\n')}
${item}
${p.after.map(para).join('\n')}
<p style="margin:24px 0 0;font-size:13px;color:#5f5a52">${escapeHtml(signature)}</p>
</div>
</body>
</html>
`;
}

/** Renders a mail in the locale (`fr…` → French, anything else → English). */
export function renderMail<T extends MailTemplateName>(
  template: T,
  values: MailValues[T],
  opts: { locale?: string | null } = {},
): RenderedMail {
  if (!(MAIL_TEMPLATES as readonly string[]).includes(template)) {
    throw new MailTemplateError(`unknown mail template ${String(template)}`);
  }
  const locale = pickLocale(opts.locale);
  const s = STRINGS[locale];
  const v = values as unknown as Values;
  const name = displayName(v);
  const p = parts(template, v, s, name);
  const signature = fill(s.signature, { name });
  return { subject: p.subject.replace(/[\r\n]+/g, ' '), text: textPart(p, signature), html: htmlPart(p, s, signature, locale) };
}
