/**
 * The one way certfleet reads a length of time written by an operator: a whole number and a
 * unit, `500ms`, `15s`, `5m`, `12h` or `1d`. Environment variables (through @certfleet/config),
 * the CA file and bucket periods (`20/60s`) all use it, so a duration accepted in one place is
 * accepted in every other. It lives here, the lowest package that reads one, because config
 * depends on budget and not the other way round.
 */

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const DURATION = /^(\d+)(ms|s|m|h|d)$/;

/** Milliseconds in `text` (surrounding spaces ignored), or `undefined` when it is not NUMBER UNIT. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** `ms` written as a duration in the largest unit that divides it: 90_000 → `90s`, 3_600_000 → `1h`. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit];
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
