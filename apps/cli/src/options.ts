import { InvalidArgumentError } from 'commander';

/**
 * A commander parser for a whole-number option: the message names the option, what it got and
 * the range it takes, instead of passing `abc` on to Redis (issue 13: `certs ls --limit abc`).
 */
export function wholeNumber(option: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const text = value.trim();
    const number = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(number) || number < min || number > max) {
      throw new InvalidArgumentError(`${option} must be a whole number from ${min} to ${max}, got "${value.slice(0, 40)}"`);
    }
    return number;
  };
}
