export { startDashboard } from './dashboard.js';
