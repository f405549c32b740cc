export { renewalTime } from './timing.js';
export { runRenewalTick } from './tick.js';
export type { RenewalTickOptions } from './tick.js';
