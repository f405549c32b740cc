import type { BulkItemResult } from '@certfleet/hostnames';
import { splitNames } from './admin.js';

/** Where imported entries go. */
export interface ImportSinks {
  /** Exact names, through the hostname service's bulk create: one result per item, in order. */
  hostnames(items: { hostname: string; issue?: boolean }[]): Promise<BulkItemResult[]>;
  /** `*.suffix` entries: the allowlist only (a hostname is one name); returns how many were new. */
  wildcards(entries: string[]): Promise<number>;
}

/** A line that did not go in, with its number (1-based) in the input. */
export interface SkippedLine {
  line: number;
  input: string;
  reason: string;
}

export interface ImportReport {
  /** Entries read (blank lines and comments aside). */
  entries: number;
  created: number;
  /** Names registered already with the same settings. */
  unchanged: number;
  wildcards: number;
  wildcardsNew: number;
  skipped: number;
}

export interface ImportOptions {
  issue: boolean;
  /** Names per bulk call (the service takes up to 10,000). */
  batch: number;
  onSkip(skipped: SkippedLine): void;
  /** After each batch: entries handled so far. */
  onProgress(done: number): void;
}

/** Longest input quoted back in a message: a hostile line may be megabytes. */
const QUOTE_MAX = 80;
const quoted = (input: string) => (input.length > QUOTE_MAX ? `${input.slice(0, QUOTE_MAX)}…` : input);

/**
 * Imports entries, one a line (blank lines and `#` comments ignored). Each line is checked by
 * the one name validator first, so an invalid line is reported with its number and the valid
 * ones still go in; a name the service refuses is reported with its line number too. Exact names
 * go through the hostname service in batches, wildcard entries to the allowlist.
 */
export async function importLines(lines: AsyncIterable<string>, sinks: ImportSinks, options: ImportOptions): Promise<ImportReport> {
  const report: ImportReport = { entries: 0, created: 0, unchanged: 0, wildcards: 0, wildcardsNew: 0, skipped: 0 };
  let names: { hostname: string; line: number }[] = [];
  let wildcards: string[] = [];
  const skip = (skipped: SkippedLine) => {
    report.skipped += 1;
    options.onSkip({ ...skipped, input: quoted(skipped.input) });
  };
  const flush = async () => {
    if (names.length > 0) {
      const batch = names;
      names = [];
      const results = await sinks.hostnames(batch.map(({ hostname }) => (options.issue ? { hostname, issue: true } : { hostname })));
      for (const [i, result] of results.entries()) {
        if (result.result === 'created') report.created += 1;
        else if (result.result === 'unchanged') report.unchanged += 1;
        else skip({ line: batch[i]?.line ?? 0, input: batch[i]?.hostname ?? '', reason: result.error?.detail ?? 'refused' });
      }
    }
    if (wildcards.length > 0) {
      report.wildcards += wildcards.length;
      report.wildcardsNew += await sinks.wildcards(wildcards);
      wildcards = [];
    }
    options.onProgress(report.entries);
  };

  let lineNumber = 0;
  for await (const raw of lines) {
    lineNumber += 1;
    const text = raw.replace(/#.*/, '').trim();
    if (!text) continue;
    report.entries += 1;
    const { valid, invalid } = splitNames([text], { entries: true });
    const entry = valid[0];
    if (entry === undefined) {
      skip({ line: lineNumber, input: text, reason: invalid[0]?.reason ?? 'not a domain name' });
      continue;
    }
    if (entry.startsWith('*.')) wildcards.push(entry);
    else names.push({ hostname: entry, line: lineNumber });
    if (names.length + wildcards.length >= options.batch) await flush();
  }
  await flush();
  return report;
}
