export { createLogger, errorMessage } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
