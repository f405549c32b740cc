import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The end-to-end files that wait on real time (certificate lifetimes, token buckets, a CA's
 * Retry-After) for minutes, mostly idle. Started first, each beside the quicker files, they no
 * longer add their minutes to the end of a run; vitest's own order (longest first from its
 * cache) only knows them after a first run, and CI starts from a fresh clone.
 */
const WAITS_ON_REAL_TIME = ['renewal-ari', 'renewal-ari-poll', 'renewal-backlog', 'renewal', 'issuance-budget', 'issuance-faults'];

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
