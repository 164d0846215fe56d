/**
 * Faults of a store (the database under it), as opposed to refusals of the
 * caller's request. Plain errors: the store knows no HTTP; the admin API
 * answers a StoreUnavailableError with 503, since the request was fine and a
 * retry later may succeed.
 */
export class StoreUnavailableError extends Error {
  override readonly name: string = 'StoreUnavailableError';
  constructor(
    message: string,
    /** The driver's code (`SQLITE_FULL`, `SQLITE_IOERR_WRITE`, …), for the log. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The disk (or the database's size limit) is full: this write failed, nothing else did. */
export class StoreFullError extends StoreUnavailableError {
  override readonly name = 'StoreFullError';
}

/**
 * The store cannot be opened: a DATA_DIR that cannot be created or written,
 * a file that is not ours or is corrupt, a schema newer than this build.
 * Start-up stops with the message; there is no fallback to memory.
 */
export class StoreStartupError extends Error {
  override readonly name = 'StoreStartupError';
}
