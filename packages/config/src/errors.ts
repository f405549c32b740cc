/**
 * A configuration value that is missing or malformed. The message is one line naming the
 * variable, what is expected and what was given (never the value of a secret), so an operator
 * can fix the deployment without reading code.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}
