/**
 * The service's errors, by who must act. Each has a stable `type` (a URI the API puts in its RFC
 * 9457 problem, the CLI maps to an exit code) and a message that names the input, what was wrong
 * and what to do.
 */
export abstract class HostnameError extends Error {
  abstract readonly type: string;
  /** The HTTP status the API answers with. */
  abstract readonly status: number;
  /** A short, constant title (RFC 9457 `title`). */
  abstract readonly title: string;
}

/** The caller's input is wrong (a name, a field, a cursor). `field` names which. */
export class InvalidInputError extends HostnameError {
  override readonly name = 'InvalidInputError';
  readonly type = 'https://certfleet.dev/problems/invalid-input';
  readonly status = 400;
  readonly title = 'Invalid input';
  constructor(
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export class HostnameNotFoundError extends HostnameError {
  override readonly name = 'HostnameNotFoundError';
  readonly type = 'https://certfleet.dev/problems/not-found';
  readonly status = 404;
  readonly title = 'Hostname not found';
  constructor(readonly hostname: string) {
    super(`${hostname} is not a registered hostname: create it first (POST /v1/hostnames, or certfleet domains add)`);
  }
}

/** The name exists with a different body: creating is idempotent only on the same body. */
export class HostnameConflictError extends HostnameError {
  override readonly name = 'HostnameConflictError';
  readonly type = 'https://certfleet.dev/problems/conflict';
  readonly status = 409;
  readonly title = 'Hostname exists with other settings';
  constructor(readonly hostname: string) {
    super(
      `${hostname} already exists with other custom_metadata or upstream: change it with PATCH /v1/hostnames/${hostname}, or send the same body to get it back`,
    );
  }
}
