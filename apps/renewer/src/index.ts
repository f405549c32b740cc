export { startRenewer } from './renewer.js';
