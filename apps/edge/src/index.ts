export { startEdge } from './edge.js';
export type { RunningEdge } from './edge.js';
export { startEdgeRole } from './cluster.js';
