// Storing a passphrase (reference §0.6): the scrypt hash of the client-side hash, the KDF
// parameters, the vault keys, and the rotation of the session secret that invalidates every
// session, app token and two-factor token. One UPDATE of the instance row: it commits whole or not.
import { createCipheriv, createHmac, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { DbExecutor } from '../db/util.js';
import { newUuidV7 } from '../db/util.js';
import { updateInstance, type Instance, type InstancePatch } from '../repositories/instances.js';
import { DEFAULT_ITERATIONS, deriveClientKeys, hashPassphrase, newSecret } from '../security/index.js';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface PassphraseInput {
  /** The client-side hash (base64, 44 characters), or the clear passphrase when `clearText`. */
  passphrase: string;
  iterations: number;
  /** The vault key encrypted with the master key (`0.<iv>|<ct>`), as sent by the client. */
  key?: string | null;
  publicKey?: string | null;
  privateKey?: string | null;
  /** The passphrase is in clear text: the server derives the client-side hash and the vault keys. */
  clearText?: boolean;
}

/** Reference §0.6: the server hashes on its own when `iterations == 0` or no `key` is given. */
export function isClearTextFallback(iterations: number | undefined, key: string | null | undefined): boolean {
  return !iterations || !key;
}

export interface PreparedPassphrase {
  patch: InstancePatch;
}

/** Does the expensive work (PBKDF2, scrypt, RSA) outside any transaction. */
export async function preparePassphrase(
  instance: Pick<Instance, 'domain' | 'oldDomain' | 'vaultPublicKey' | 'vaultPrivateKey'>,
  input: PassphraseInput,
): Promise<PreparedPassphrase> {
  let clientHash = input.passphrase;
  let iterations = input.iterations;
  let key = input.key ?? null;
  let publicKey = input.publicKey ?? null;
  let privateKey = input.privateKey ?? null;
  if (input.clearText) {
    // A client that could not hash sends iterations 0: the server then uses the default count.
    iterations = input.iterations > 0 ? input.iterations : DEFAULT_ITERATIONS;
    const derived = await deriveClientKeys(input.passphrase, instance.oldDomain ?? instance.domain, iterations);
    clientHash = derived.hash;
    const vault = await generateVaultKeys(derived.masterKey);
    key = vault.key;
    publicKey = vault.publicKey;
    privateKey = vault.privateKey;
  }
  const passphraseHash = await hashPassphrase(clientHash);
  return {
    patch: {
      passphraseHash,
      passphraseKdf: 0,
      passphraseKdfIterations: iterations,
      passwordDefined: true,
      vaultKey: key,
      vaultPublicKey: publicKey ?? instance.vaultPublicKey,
      vaultPrivateKey: privateKey ?? instance.vaultPrivateKey,
      sessionSecret: newSecret(64).toString('base64'),
      securityStamp: newUuidV7(),
    },
  };
}

/** Writes a prepared passphrase (and any other fields) in one update. */
export async function storePassphrase(db: DbExecutor, instance: Instance, prepared: PreparedPassphrase, extra: InstancePatch = {}): Promise<Instance> {
  const updated = await updateInstance(db, instance.id, { ...prepared.patch, ...extra });
  if (!updated) throw new Error(`instance ${instance.domain} disappeared while its passphrase was changed`);
  return updated;
}

/** The vault keys the server makes when the client did not: a 64-byte symmetric key encrypted
 * with the master key (`0.<iv>|<ct>`, AES-256-CBC), and an RSA-2048 key pair whose private key is
 * encrypted with that symmetric key (`2.<iv>|<ct>|<mac>`). */
async function generateVaultKeys(masterKey: Buffer): Promise<{ key: string; publicKey: string; privateKey: string }> {
  const symmetric = randomBytes(64);
  const key = `0.${aesCbc(masterKey, symmetric)}`;
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  const encKey = symmetric.subarray(0, 32);
  const macKey = symmetric.subarray(32);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', encKey, iv);
  const ct = Buffer.concat([cipher.update(privateKey), cipher.final()]);
  const mac = createHmac('sha256', macKey).update(Buffer.concat([iv, ct])).digest();
  return {
    key,
    publicKey: (publicKey as Buffer).toString('base64'),
    privateKey: `2.${iv.toString('base64')}|${ct.toString('base64')}|${mac.toString('base64')}`,
  };
}

function aesCbc(key: Buffer, data: Buffer): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ct = Buffer.concat([cipher.update(data), cipher.final()]);
  return `${iv.toString('base64')}|${ct.toString('base64')}`;
}
