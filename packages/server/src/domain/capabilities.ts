// Reference §1.3: the capabilities of an instance.
import { contextConfig, oidcConfig, type HearthConfig } from '../config/config.js';
import type { Instance } from '../repositories/instances.js';

export function capabilitiesOf(config: HearthConfig, instance: Instance) {
  const ctx = contextConfig(config, instance.context);
  return {
    file_versioning: true,
    flat_subdomains: config.subdomains === 'flat',
    can_auth_with_password: !ctx.disablePasswordAuthentication && !instance.magicLink,
    can_auth_with_magic_links: instance.magicLink,
    can_auth_with_oidc: oidcConfig(config, instance.context) !== null || Boolean(instance.franceconnectId),
  };
}
