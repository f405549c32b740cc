import { ConfigError } from './errors.js';

/** One variable as read: its name and its parsed value, `undefined` when unset. */
export interface Given<T> {
  name: string;
  value: T | undefined;
}

/**
 * The value of a renamed variable. The new name wins; the old one still works, with a warning
 * (logged at start-up), so a deployment keeps running across the upgrade. Both set to different
 * values is refused: which one the operator meant cannot be told. Neither set: `fallback`.
 */
export function renamedVariable<T>(current: Given<T>, old: Given<T>, fallback: T, warnings: string[]): T {
  if (old.value === undefined) return current.value ?? fallback;
  if (current.value === undefined) {
    warnings.push(`${old.name} is deprecated: rename it to ${current.name} (same meaning; unset, it now defaults to ${String(fallback)})`);
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
