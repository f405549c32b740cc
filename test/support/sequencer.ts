import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The end-to-end files that take longest, mostly waiting on real time (certificate lifetimes,
 * token buckets, a CA's Retry-After), and edge-proxy, the busiest; longest first (measured on the
 * loaded 2-core machine: 79, 73, 64, 48, 47, 44, 36-48, 35 s). Started first, they no longer add
 * their minutes to the end of a run; vitest's own order (longest first from its cache) only
 * knows them after a first run, and CI starts from a fresh clone.
 */
const WAITS_ON_REAL_TIME = [
  'renewal-ari',
  'edge-proxy',
  'issuance-faults',
  'issuance-budget',
  'renewal-backlog',
  'renewal',
  'redis-cluster',
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
