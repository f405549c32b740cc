export {
  BudgetHold,
  BulkCreateBody,
  BulkItemResult,
  CertificateObject,
  CertificateStatus,
  CreateHostnameBody,
  CustomMetadata,
  DEFAULT_PAGE_SIZE,
  HOSTNAME_STATUSES,
  HostnameObject,
  HostnamePage as HostnamePageSchema,
  HostnameStatus,
  ListQuery,
  MAX_BULK_ITEMS,
  MAX_METADATA_BYTES,
  MAX_PAGE_SIZE,
  UpdateHostnameBody,
  ValidationError,
} from './schema.js';
export { BUDGET_PROBLEM_TYPE, bareHostnameObject, certificateStatus, describeFrom, describeHostname, hostnameStatus } from './describe.js';
export type { DescribeStore } from './describe.js';
export type {
  Actor,
  CreateResult,
  HostnameEventSink,
  HostnameEventType,
  HostnamePage,
  HostnameService,
  ListOptions,
} from './contract.js';
export { HostnameConflictError, HostnameError, HostnameNotFoundError, InvalidInputError } from './errors.js';
export { createHostnameService } from './service.js';
export type { DnsObserver, HostnameServiceDeps, Provisioner, ServiceStore } from './service.js';
export { componentSchemas } from './json-schema.js';
export { parseInput } from './input.js';
