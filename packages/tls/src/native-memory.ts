import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A secure context keeps its certificates and key in OpenSSL's memory (~27 KB), outside V8's
 * heap. V8 does not count it, so the wrapper of an evicted context is collected late and RSS
 * grows far past the cache's bound: 30,000 contexts through a 2,000-entry LRU reached 641 MB;
 * with a full collection after every 1,000 evictions, 137 MB. This asks for that collection
 * once `everyBytes` of contexts have been let go (a few tens of ms, against the seconds of CPU
 * spent building what was evicted).
 */
export function createNativeMemoryReclaimer(everyBytes: number, collect: (() => void) | undefined = exposedGc()) {
  let released = 0;
  let collections = 0;
  return {
    /** Notes that a context of `bytes` left the cache. */
    released(bytes: number): void {
      released += bytes;
      if (released < everyBytes || !collect) return;
      released = 0;
      collections += 1;
      collect();
    },
    get collections() {
      return collections;
    },
  };
}

/** V8's `gc()`, made reachable without a command-line flag; undefined where V8 refuses. */
function exposedGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}
