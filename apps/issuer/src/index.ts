export { startIssuer } from './issuer.js';
export type { RunningRole } from './issuer.js';
export { runIssueJob } from './issue-job.js';
export type { IssueJobDeps } from './issue-job.js';
