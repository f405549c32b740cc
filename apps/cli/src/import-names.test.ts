import type { BulkItemResult } from '@certfleet/hostnames';
import { describe, expect, it } from 'vitest';
import { importLines, type SkippedLine } from './import-names.js';

async function* linesOf(text: string) {
  yield* text.split('\n');
}

/** Sinks that remember what they got; the bulk sink refuses names listed in `refuse`. */
function sinks(refuse: readonly string[] = []) {
  const seen = new Set<string>();
  const calls: { hostname: string; issue?: boolean }[][] = [];
  const allowed = new Set<string>();
  return {
    calls,
    allowed,
    async hostnames(items: { hostname: string; issue?: boolean }[]): Promise<BulkItemResult[]> {
      calls.push(items);
      return items.map(({ hostname }) => {
        if (refuse.includes(hostname)) return { hostname, result: 'error', error: { type: 'x', detail: `${hostname} is forbidden` } };
        const again = seen.has(hostname);
        seen.add(hostname);
        return { hostname, result: again ? 'unchanged' : 'created' };
      });
    },
    async wildcards(entries: string[]) {
      const before = allowed.size;
      for (const entry of entries) allowed.add(entry);
      return allowed.size - before;
    },
  };
}

describe('importLines', () => {
  it('reports invalid lines with their numbers while the valid ones go in', async () => {
    const skipped: SkippedLine[] = [];
    const to = sinks(['refused.example.com']);
    const report = await importLines(
      linesOf(
        'a.example.com\n\n# a comment\nnot a name!\nB.Example.com  # trailing comment\n*.c.example.net\nrefused.example.com\na.example.com\n-bad-.example\n',
      ),
      to,
      { issue: false, batch: 1_000, onSkip: (s) => skipped.push(s), onProgress: () => undefined },
    );
    expect(report).toEqual({ entries: 7, created: 2, unchanged: 1, wildcards: 1, wildcardsNew: 1, skipped: 3 });
    expect(skipped.map((s) => [s.line, s.input])).toEqual([
      [4, 'not a name!'],
      [9, '-bad-.example'],
      [7, 'refused.example.com'],
    ]);
    expect(skipped[2]?.reason).toBe('refused.example.com is forbidden');
    expect(to.calls.flat().map((item) => item.hostname)).toEqual([
      'a.example.com',
      'b.example.com',
      'refused.example.com',
      'a.example.com',
    ]);
    expect([...to.allowed]).toEqual(['*.c.example.net']);
  });

  it('sends batches of the given size, asks for issuance when told, and reports progress after each', async () => {
    const to = sinks();
    const progress: number[] = [];
    const text = Array.from({ length: 25 }, (_, i) => `n${i}.example.com`).join('\n');
    await importLines(linesOf(text), to, { issue: true, batch: 10, onSkip: () => undefined, onProgress: (done) => progress.push(done) });
    expect(to.calls.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(to.calls[0]?.[0]).toEqual({ hostname: 'n0.example.com', issue: true });
    expect(progress).toEqual([10, 20, 25]);
  });

  it('quotes at most 80 characters of a hostile line', async () => {
    const skipped: SkippedLine[] = [];
    await importLines(linesOf(`${'x'.repeat(100_000)}!`), sinks(), {
      issue: false,
      batch: 10,
      onSkip: (s) => skipped.push(s),
      onProgress: () => undefined,
    });
    expect(skipped[0]?.line).toBe(1);
    expect(skipped[0]?.input).toBe(`${'x'.repeat(80)}…`);
  });
});
