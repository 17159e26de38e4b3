// Mail templates: every template in both languages carries its code or link verbatim in the text
// part, and escapes every value in the HTML part.
import { describe, expect, it } from 'vitest';
import { MAIL_TEMPLATES, MailTemplateError, renderMail, type MailTemplateName, type MailValues } from '../../src/mail/templates.js';

const LINK = 'https://alice.localhost/auth/magic_link?code=AbCdEf0123456789AbCdEf0123456789&redirect=https%3A%2F%2Fdrive.alice.localhost%2F%23%2Ffolder';

const SAMPLES: { [T in MailTemplateName]: { values: MailValues[T]; item: string } } = {
  two_factor: { values: { TwoFactorPasscode: '123456', PublicName: 'Alice' }, item: '123456' },
  two_factor_mail_confirmation: { values: { TwoFactorActivationPasscode: '654321', PublicName: 'Alice' }, item: '654321' },
  update_email: { values: { EmailUpdateLink: 'https://alice.localhost/settings/email/verify?token=Zz9&x=1', PublicName: 'Alice' }, item: 'https://alice.localhost/settings/email/verify?token=Zz9&x=1' },
  confirm_flagship: { values: { Code: '000042', PublicName: 'Alice' }, item: '000042' },
  magic_link: { values: { MagicLink: LINK, PublicName: 'Alice' }, item: LINK },
  passphrase_reset: { values: { PassphraseResetLink: 'https://alice.localhost/auth/passphrase_renew?token=0a1b2c&from=settings', PublicName: 'Alice' }, item: 'https://alice.localhost/auth/passphrase_renew?token=0a1b2c&from=settings' },
  passphrase_hint: { values: { Hint: 'the cat & the <hat>', PublicName: 'Alice', BaseURL: 'https://alice.localhost' }, item: 'the cat & the <hat>' },
  notification_fallback: { values: { title: 'Drive - Quota almost reached', message: 'You use 95% of your space.', PublicName: 'Alice' }, item: 'Drive - Quota almost reached' },
};

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

describe('renderMail', () => {
  for (const template of MAIL_TEMPLATES) {
    for (const locale of ['en', 'fr']) {
      it(`${template} (${locale}) carries its code or link verbatim`, () => {
        const { values, item } = SAMPLES[template];
        const m = renderMail(template, values as never, { locale });
        expect(m.subject.length).toBeGreaterThan(3);
        expect(m.subject).not.toMatch(/[\r\n]/);
        // Verbatim and alone on its line in the text part.
        expect(m.text.split('\n')).toContain(item);
        expect(m.text).toContain('Alice');
        expect(m.html).toContain(`<html lang="${locale}">`);
        expect(m.html).toContain(escapeHtml(item));
        if (item.startsWith('https://')) expect(m.html).toContain(`href="${escapeHtml(item)}"`);
      });
    }
  }

  it('speaks French for fr locales and English otherwise', () => {
    expect(renderMail('two_factor', { TwoFactorPasscode: '1', PublicName: 'A' }, { locale: 'fr-FR' }).subject).toBe('Votre code de connexion à A');
    expect(renderMail('two_factor', { TwoFactorPasscode: '1', PublicName: 'A' }, { locale: 'de' }).subject).toBe('Your sign-in code for A');
    expect(renderMail('two_factor', { TwoFactorPasscode: '1', PublicName: 'A' }).text).toContain('Hello,');
  });

  it('escapes every value in the HTML part', () => {
    const evil = '<script>alert(1)</script>';
    const m = renderMail('notification_fallback', { title: evil, message: `${evil}"`, link: 'javascript:alert(1)', PublicName: evil });
    expect(m.html).not.toContain('<script>');
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(m.html).not.toContain('href="javascript:');
    const hint = renderMail('passphrase_hint', SAMPLES.passphrase_hint.values);
    expect(hint.html).toContain('the cat &amp; the &lt;hat&gt;');
    expect(hint.text).toContain('https://alice.localhost');
  });

  it('falls back to the BaseURL host, then Hearth, for the name', () => {
    expect(renderMail('magic_link', { MagicLink: LINK, BaseURL: 'https://bob.example.net' }).subject).toBe('Your sign-in link for bob.example.net');
    expect(renderMail('magic_link', { MagicLink: LINK }).subject).toBe('Your sign-in link for Hearth');
  });

  it('accepts the short aliases Code and Link', () => {
    expect(renderMail('two_factor', { Code: '777777' } as never).text).toContain('\n777777\n');
    expect(renderMail('magic_link', { Link: LINK } as never).text).toContain(`\n${LINK}\n`);
  });

  it('throws on a missing code or link, and on an unknown template', () => {
    expect(() => renderMail('two_factor', {} as never)).toThrow(MailTemplateError);
    expect(() => renderMail('magic_link', { MagicLink: '' })).toThrow(/MagicLink/);
    expect(() => renderMail('nope' as never, {} as never)).toThrow(/unknown mail template/);
  });
});
