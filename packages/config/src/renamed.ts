import { ConfigError } from './errors.js';

/** One variable as read: its name and its parsed value, `undefined` when unset. */
export interface Given<T> {
  name: string;
  value: T | undefined;
}

export interface RenameOptions<T> {
  /** How a value is written in the environment (a duration as 2s); default String. */
  show?: (value: T) => string;
  /** The old name's values were written differently (milliseconds, not a duration): the warning gives the new spelling. */
  formChanged?: boolean;
}

/**
 * The value of a renamed variable. The new name wins; the old one still works, with a warning
 * (logged at start-up), so a deployment keeps running across the upgrade. Both set to different
 * values is refused: which one the operator meant cannot be told. Neither set: `fallback`.
 */
export function renamedVariable<T>(current: Given<T>, old: Given<T>, fallback: T, warnings: string[], options: RenameOptions<T> = {}): T {
  const show = options.show ?? String;
  if (old.value === undefined) return current.value ?? fallback;
  if (current.value === undefined) {
    const unset = fallback === undefined ? 'unset, it is off' : `unset, it now defaults to ${show(fallback)}`;
    warnings.push(
      options.formChanged
        ? `${old.name} is deprecated: replace it with ${current.name}, written with a unit: ${current.name}=${show(old.value)} (${unset})`
        : `${old.name} is deprecated: rename it to ${current.name} (same meaning; ${unset})`,
    );
    return old.value;
  }
  if (current.value !== old.value) {
    throw new ConfigError(
      old.name,
      `${old.name} (deprecated) and ${current.name} are both set, to different values: keep only ${current.name}`,
    );
  }
  warnings.push(`${old.name} is deprecated and ${current.name} is set to the same value: remove ${old.name}`);
  return current.value;
}
