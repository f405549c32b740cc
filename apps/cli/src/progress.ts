/** Where an import stands, for the progress line. */
export interface ProgressState {
  /** Entries handled so far (imported or skipped). */
  done: number;
  /** Share of the input read (0-1), when its size is known (a file; not standard input). */
  fraction: number | undefined;
  elapsedMs: number;
}

const BAR_WIDTH = 24;
const grouped = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * One progress line: count, rate, and with a known size a bar, the percentage and the time
 * left (ETA from the share read so far at the rate so far), e.g.
 * `[##########--------------]  42%  41,000 names  8,210/s  ETA 7s`.
 */
export function formatProgress(state: ProgressState): string {
  const rate = state.elapsedMs > 0 ? (state.done * 1000) / state.elapsedMs : 0;
  const parts = [`${grouped(state.done)} names`, `${grouped(rate)}/s`];
  if (state.fraction === undefined) return parts.join('  ');
  const fraction = Math.min(1, Math.max(0, state.fraction));
  const filled = Math.round(fraction * BAR_WIDTH);
  const eta = fraction > 0 ? (state.elapsedMs * (1 - fraction)) / fraction : Number.NaN;
  return [
    `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`,
    `${String(Math.floor(fraction * 100)).padStart(3)}%`,
    ...parts,
    `ETA ${Number.isFinite(eta) ? duration(eta) : '?'}`,
  ].join('  ');
}

export interface ProgressLine {
  /** Shows `state` now if the last redraw is old enough (at most 10 redraws a second). */
  update(state: ProgressState): void;
  /** Clears the line, so the summary and any later message start on a clean one. */
  clear(): void;
}

/**
 * A progress line redrawn in place on a terminal (carriage return, erase to the end of the
 * line), or nothing at all elsewhere: a log or a pipe gets only the summary line.
 */
export function progressLine(stream: NodeJS.WriteStream, now: () => number = Date.now): ProgressLine {
  if (!stream.isTTY) return { update: () => undefined, clear: () => undefined };
  let drawnAt = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(state) {
      if (now() - drawnAt < 100) return;
      drawnAt = now();
      drawn = true;
      stream.write(`\r${formatProgress(state)}\x1b[K`);
    },
    clear() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
