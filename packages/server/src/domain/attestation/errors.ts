// The failure of a store attestation: `message` is the reason answered as `{"error": reason}`.
export class AttestationError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'AttestationError';
  }
}

/** A certificate digest as configured (standard base64) and as Google sends it (unpadded base64url). */
export function digestMatches(given: unknown, configured: readonly string[]): boolean {
  if (typeof given !== 'string' || given === '') return false;
  return configured.some((d) => d === given || Buffer.from(d, 'base64').toString('base64url') === given);
}
