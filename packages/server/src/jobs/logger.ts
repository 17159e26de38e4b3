// The logging interface the storage layer needs: a subset of pino's (a pino logger fits).

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

const noop = (): void => undefined;

/** A logger that drops everything (the default when none is given). */
export const silentLogger: Logger = { info: noop, warn: noop, error: noop, debug: noop };

/** A short description of a thrown value, for logs and `last_error` columns. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
