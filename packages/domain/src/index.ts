export { checkAllowlistEntry, checkHostname, normalizeHostname, InvalidDomainError, DEFAULT_FORBIDDEN_SUFFIXES } from './hostname.js';
export type { HostnameCheck, HostnameOptions, HostnameRule } from './hostname.js';
