// Page strings in English and French. Strings are plain text: placeholders `{name}` are filled by
// t() and the result is escaped by the html`` tag like any other value. No string holds markup.

export type Locale = 'en' | 'fr';
export const LOCALES: readonly Locale[] = ['en', 'fr'];

/** `fr`, `fr-FR`, `fr_CA` → fr; anything else (or nothing) → en. */
export function pickLocale(locale: string | null | undefined): Locale {
  const base = (locale ?? '').trim().toLowerCase().split(/[-_]/)[0];
  return base === 'fr' ? 'fr' : 'en';
}

const en = {
  'common.brand': 'Hearth',
  'common.noscript': 'This page needs JavaScript to protect your password before it is sent.',
  'common.network': 'The server could not be reached. Check your connection and try again.',
  'common.generic': 'Something went wrong. Please try again.',
  'common.working': 'Please wait…',
  'common.back_to_login': 'Back to sign in',
  'common.code_label': 'Six-digit code',
  'common.code_help': 'The code is valid for a few minutes.',
  'common.code_format': 'The code is made of 6 digits.',
  'common.empty_password': 'Please enter your password.',
  'common.password': 'Password',
  'common.username': 'Address of your space',
  'common.skip': 'Skip to content',

  'login.title': 'Sign in',
  'login.heading': 'Sign in to {name}',
  'login.long_run': 'Stay signed in on this device',
  'login.submit': 'Sign in',
  'login.forgot': 'Forgot your password?',
  'login.oidc': 'Sign in with your organization account',
  'login.magic_intro': 'We will send a sign-in link to the email address of {name}.',
  'login.magic_submit': 'Send me a sign-in link',

  'twofactor.title': 'Two-factor authentication',
  'twofactor.intro': 'We sent a six-digit code to your email address. Enter it to finish signing in.',
  'twofactor.trust': 'Trust this device (no code will be asked next time)',
  'twofactor.submit': 'Confirm',

  'authorize.title': 'Authorize access',
  'authorize.intro': '{client} asks to access {name}.',
  'authorize.editor': 'Published by {editor}',
  'authorize.redirect': 'After your answer you will be sent to {target}.',
  'authorize.scopes': 'Requested permissions',
  'authorize.scope_all': 'Full access to all your data',
  'authorize.scope_read': 'read',
  'authorize.scope_write': 'read and write',
  'authorize.accept': 'Accept',
  'authorize.cancel': 'Cancel',

  'confirm_flagship.title': 'Confirm the mobile app',
  'confirm_flagship.intro':
    'To give the app {client} full access to {name}, enter the six-digit code we just sent to your email address.',
  'confirm_flagship.submit': 'Confirm',

  'choose.new_password': 'New password',
  'choose.confirm_password': 'Confirm the password',
  'choose.hint': 'Hint (optional)',
  'choose.hint_help': 'It is sent to you by email if you forget your password. It must not reveal it.',
  'choose.mismatch': 'The two passwords are different.',
  'choose.hint_is_password': 'The hint must not be your password.',

  'onboarding.title': 'Choose your password',
  'onboarding.intro': 'This password protects {name}. Choose a long one that you can remember: it cannot be recovered.',
  'onboarding.submit': 'Save and continue',

  'passphrase_reset.title': 'Forgot your password?',
  'passphrase_reset.intro': 'We can email you a link to choose a new password.',
  'passphrase_reset.warning':
    'Choosing a new password signs you out of this device, and the passwords kept in your vault that cannot be recovered will be deleted.',
  'passphrase_reset.submit': 'Send me a reset link',
  'passphrase_reset.hint_intro': 'You saved a hint? We can email it to you instead.',
  'passphrase_reset.hint_submit': 'Send me my hint',

  'passphrase_reset_requested.title': 'Check your mailbox',
  'passphrase_reset_requested.message':
    'We sent an email with a link to choose a new password to the address of {name}. The link is valid for a limited time.',

  'passphrase_renew.title': 'Choose a new password',
  'passphrase_renew.intro': 'Choose the new password of {name}.',
  'passphrase_renew.submit': 'Save the new password',

  'clients_limit_exceeded.title': 'Too many connected devices',
  'clients_limit_exceeded.message':
    'You have reached the limit of {limit} connected devices and apps. Disconnect one of them to connect this one. This page refreshes by itself.',
  'clients_limit_exceeded.message_nolimit':
    'You have reached the limit of connected devices and apps. Disconnect one of them to connect this one. This page refreshes by itself.',
  'clients_limit_exceeded.manage': 'Manage connected devices',
  'clients_limit_exceeded.premium': 'Increase the limit',

  'install_flagship_app.title': 'Get the mobile app',
  'install_flagship_app.message': 'Reach {name} from your phone with the mobile app.',
  'install_flagship_app.store': 'Download the app',
  'install_flagship_app.skip': 'Not now, continue in the browser',

  'need_onboarding.title': 'This space is not activated yet',
  'need_onboarding.message':
    'To activate {name}, open the link we sent you by email and choose your password.',
  'need_onboarding.resend': 'Send the activation email again',

  'instance_blocked.title': 'Access blocked',
  'instance_blocked.LOGIN_FAILED':
    'There were too many failed attempts to sign in to {name}. To protect it, access is blocked. Contact your administrator or support to unblock it.',
  'instance_blocked.PAYMENT_FAILED': 'Access to {name} is suspended because of a payment problem.',
  'instance_blocked.IMPORTING': '{name} is importing data. Try again in a moment.',
  'instance_blocked.MOVING': '{name} is being moved. Try again in a moment.',
  'instance_blocked.UNKNOWN': 'Access to {name} is blocked. Contact your administrator or support.',
  'instance_blocked.contact': 'Contact: {address}',

  'error.title': 'Error',
  'error.status': 'Error {status}',
  'error.back': 'Go back',

  'magic_link_sent.title': 'Check your mailbox',
  'magic_link_sent.message': 'We sent a sign-in link to the email address of {name}. It is valid for 15 minutes.',

  'magic_link_twofactor.title': 'Confirm it is you',
  'magic_link_twofactor.intro': 'Enter your password to finish signing in to {name}.',
  'magic_link_twofactor.submit': 'Sign in',

  'hint_sent.title': 'Hint sent',
  'hint_sent.message': 'If a hint was saved for {name}, we sent it to its email address.',

  'new_app_available.title': 'A new app is available',
  'new_app_available.message': '{app} is no longer supported. Install the new app to keep using {name}.',
  'new_app_available.store_android': 'Get it on Google Play',
  'new_app_available.store_iphone': 'Download on the App Store',
  'new_app_available.store_other': 'Download ({platform})',
} as const;

export type MessageKey = keyof typeof en;

const fr: Record<MessageKey, string> = {
  'common.brand': 'Hearth',
  'common.noscript': 'Cette page a besoin de JavaScript pour protéger votre mot de passe avant son envoi.',
  'common.network': 'Impossible de joindre le serveur. Vérifiez votre connexion et réessayez.',
  'common.generic': 'Une erreur est survenue. Veuillez réessayer.',
  'common.working': 'Veuillez patienter…',
  'common.back_to_login': 'Retour à la connexion',
  'common.code_label': 'Code à six chiffres',
  'common.code_help': 'Le code est valable quelques minutes.',
  'common.code_format': 'Le code est composé de 6 chiffres.',
  'common.empty_password': 'Veuillez saisir votre mot de passe.',
  'common.password': 'Mot de passe',
  'common.username': 'Adresse de votre espace',
  'common.skip': 'Aller au contenu',

  'login.title': 'Connexion',
  'login.heading': 'Connexion à {name}',
  'login.long_run': 'Rester connecté sur cet appareil',
  'login.submit': 'Se connecter',
  'login.forgot': 'Mot de passe oublié ?',
  'login.oidc': 'Se connecter avec le compte de votre organisation',
  'login.magic_intro': 'Nous allons envoyer un lien de connexion à l’adresse e-mail de {name}.',
  'login.magic_submit': 'M’envoyer un lien de connexion',

  'twofactor.title': 'Authentification à deux facteurs',
  'twofactor.intro':
    'Nous avons envoyé un code à six chiffres à votre adresse e-mail. Saisissez-le pour terminer la connexion.',
  'twofactor.trust': 'Faire confiance à cet appareil (le code ne sera plus demandé)',
  'twofactor.submit': 'Valider',

  'authorize.title': 'Autoriser l’accès',
  'authorize.intro': '{client} demande l’accès à {name}.',
  'authorize.editor': 'Publié par {editor}',
  'authorize.redirect': 'Après votre réponse, vous serez redirigé vers {target}.',
  'authorize.scopes': 'Permissions demandées',
  'authorize.scope_all': 'Accès complet à toutes vos données',
  'authorize.scope_read': 'lecture',
  'authorize.scope_write': 'lecture et écriture',
  'authorize.accept': 'Accepter',
  'authorize.cancel': 'Annuler',

  'confirm_flagship.title': 'Confirmer l’application mobile',
  'confirm_flagship.intro':
    'Pour donner à l’application {client} un accès complet à {name}, saisissez le code à six chiffres que nous venons d’envoyer à votre adresse e-mail.',
  'confirm_flagship.submit': 'Valider',

  'choose.new_password': 'Nouveau mot de passe',
  'choose.confirm_password': 'Confirmez le mot de passe',
  'choose.hint': 'Indice (facultatif)',
  'choose.hint_help': 'Il vous est envoyé par e-mail en cas d’oubli. Il ne doit pas révéler le mot de passe.',
  'choose.mismatch': 'Les deux mots de passe sont différents.',
  'choose.hint_is_password': 'L’indice ne doit pas être votre mot de passe.',

  'onboarding.title': 'Choisissez votre mot de passe',
  'onboarding.intro':
    'Ce mot de passe protège {name}. Choisissez-le long et facile à retenir : il ne peut pas être récupéré.',
  'onboarding.submit': 'Enregistrer et continuer',

  'passphrase_reset.title': 'Mot de passe oublié ?',
  'passphrase_reset.intro': 'Nous pouvons vous envoyer par e-mail un lien pour choisir un nouveau mot de passe.',
  'passphrase_reset.warning':
    'Choisir un nouveau mot de passe vous déconnecte de cet appareil, et les mots de passe de votre coffre qui ne peuvent pas être récupérés seront supprimés.',
  'passphrase_reset.submit': 'M’envoyer un lien de réinitialisation',
  'passphrase_reset.hint_intro': 'Vous avez enregistré un indice ? Nous pouvons vous l’envoyer par e-mail.',
  'passphrase_reset.hint_submit': 'M’envoyer mon indice',

  'passphrase_reset_requested.title': 'Consultez votre boîte mail',
  'passphrase_reset_requested.message':
    'Nous avons envoyé à l’adresse de {name} un e-mail contenant un lien pour choisir un nouveau mot de passe. Ce lien est valable pour une durée limitée.',

  'passphrase_renew.title': 'Choisissez un nouveau mot de passe',
  'passphrase_renew.intro': 'Choisissez le nouveau mot de passe de {name}.',
  'passphrase_renew.submit': 'Enregistrer le nouveau mot de passe',

  'clients_limit_exceeded.title': 'Trop d’appareils connectés',
  'clients_limit_exceeded.message':
    'Vous avez atteint la limite de {limit} appareils et applications connectés. Déconnectez-en un pour connecter celui-ci. Cette page se met à jour toute seule.',
  'clients_limit_exceeded.message_nolimit':
    'Vous avez atteint la limite d’appareils et d’applications connectés. Déconnectez-en un pour connecter celui-ci. Cette page se met à jour toute seule.',
  'clients_limit_exceeded.manage': 'Gérer les appareils connectés',
  'clients_limit_exceeded.premium': 'Augmenter la limite',

  'install_flagship_app.title': 'Installez l’application mobile',
  'install_flagship_app.message': 'Accédez à {name} depuis votre téléphone avec l’application mobile.',
  'install_flagship_app.store': 'Télécharger l’application',
  'install_flagship_app.skip': 'Plus tard, continuer dans le navigateur',

  'need_onboarding.title': 'Cet espace n’est pas encore activé',
  'need_onboarding.message':
    'Pour activer {name}, ouvrez le lien que nous vous avons envoyé par e-mail et choisissez votre mot de passe.',
  'need_onboarding.resend': 'Renvoyer l’e-mail d’activation',

  'instance_blocked.title': 'Accès bloqué',
  'instance_blocked.LOGIN_FAILED':
    'Il y a eu trop de tentatives de connexion échouées à {name}. Pour le protéger, l’accès est bloqué. Contactez votre administrateur ou le support pour le débloquer.',
  'instance_blocked.PAYMENT_FAILED': 'L’accès à {name} est suspendu à cause d’un problème de paiement.',
  'instance_blocked.IMPORTING': '{name} est en train d’importer des données. Réessayez dans un moment.',
  'instance_blocked.MOVING': '{name} est en cours de déménagement. Réessayez dans un moment.',
  'instance_blocked.UNKNOWN': 'L’accès à {name} est bloqué. Contactez votre administrateur ou le support.',
  'instance_blocked.contact': 'Contact : {address}',

  'error.title': 'Erreur',
  'error.status': 'Erreur {status}',
  'error.back': 'Retour',

  'magic_link_sent.title': 'Consultez votre boîte mail',
  'magic_link_sent.message':
    'Nous avons envoyé un lien de connexion à l’adresse e-mail de {name}. Il est valable 15 minutes.',

  'magic_link_twofactor.title': 'Confirmez votre identité',
  'magic_link_twofactor.intro': 'Saisissez votre mot de passe pour terminer la connexion à {name}.',
  'magic_link_twofactor.submit': 'Se connecter',

  'hint_sent.title': 'Indice envoyé',
  'hint_sent.message': 'Si un indice a été enregistré pour {name}, nous l’avons envoyé à son adresse e-mail.',

  'new_app_available.title': 'Une nouvelle application est disponible',
  'new_app_available.message':
    '{app} n’est plus maintenue. Installez la nouvelle application pour continuer à utiliser {name}.',
  'new_app_available.store_android': 'Disponible sur Google Play',
  'new_app_available.store_iphone': 'Télécharger dans l’App Store',
  'new_app_available.store_other': 'Télécharger ({platform})',
};

const CATALOG: Record<Locale, Record<MessageKey, string>> = { en, fr };

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** The translation function of a locale. Unknown placeholders are left as they are. */
export function translator(locale: Locale): Translate {
  const messages = CATALOG[locale];
  return (key, params) => {
    const s = messages[key] ?? en[key];
    if (!params) return s;
    return s.replace(/\{(\w+)\}/g, (m, p: string) => (p in params ? String(params[p]) : m));
  };
}

/** Every key, for the tests. */
export const MESSAGE_KEYS = Object.keys(en) as MessageKey[];
export function messagesOf(locale: Locale): Record<MessageKey, string> {
  return CATALOG[locale];
}
