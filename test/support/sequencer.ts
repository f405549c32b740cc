import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The end-to-end files that wait on real time (certificate lifetimes, token buckets, a CA's
 * Retry-After, the one-minute floor of an ARI re-poll), mostly idle; longest first (measured
 * on the loaded 2-core machine: 80, 77, 55-75, 49, 43 and 42 s). Started first, they no longer
 * add their minutes to the end of a run; vitest's own order (longest first from its cache) only
 * knows them after a first run, and CI starts from a fresh clone.
 */
const WAITS_ON_REAL_TIME = [
  'renewal-ari',
  'renewal-ari-poll',
  'redis-cluster',
  'renewal',
  'issuance-faults',
  'issuance-budget',
  'renewal-backlog',
  'redis-sentinel',
];

const rank = (spec: TestSpecification) => {
  const file =
    spec.moduleId
      .split('/')
      .pop()
      ?.replace(/\.test\.ts$/, '') ?? '';
  const index = WAITS_ON_REAL_TIME.indexOf(file);
  return index === -1 ? WAITS_ON_REAL_TIME.length : index;
};

export default class RealTimeFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    return sorted
      .map((spec, index) => ({ spec, index }))
      .sort((a, b) => (a.spec.project.name === b.spec.project.name ? rank(a.spec) - rank(b.spec) : 0) || a.index - b.index)
      .map(({ spec }) => spec);
  }
}
