export { startEdgeRole } from './cluster.js';
export type { RunningEdge } from './edge.js';
