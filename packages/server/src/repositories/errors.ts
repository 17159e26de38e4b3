// Errors raised by the repositories. The HTTP layer maps them to responses.

/** A write lost a race or did not match the expected revision (CouchDB's 409 conflict). */
export class ConflictError extends Error {
  constructor(message = 'conflict') {
    super(message);
    this.name = 'ConflictError';
  }
}

/** The row to change does not exist. */
export class NotFoundError extends Error {
  constructor(message = 'not found') {
    super(message);
    this.name = 'NotFoundError';
  }
}
