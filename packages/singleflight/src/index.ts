export { createSingleflight } from './singleflight.js';
export type { Flight, Singleflight } from './singleflight.js';
