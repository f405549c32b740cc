export { ConfigError } from './errors.js';
export { redactUrl } from './redact.js';
export { loadRedisTarget } from './redis-config.js';
export type { HostPort, RedisTarget, RedisTopology } from './redis-config.js';
export { unknownVariableWarnings } from './unknown-variables.js';
export {
  loadCommonConfig,
  loadDashboardConfig,
  loadEdgeConfig,
  loadIssuerConfig,
  loadKeysConfig,
  loadRenewerConfig,
} from './roles.js';
export type { AtRestConfig, CommonConfig, DashboardConfig, EdgeConfig, IssuerConfig, RenewerConfig } from './roles.js';
export { loadPolicyConfig, POLICY_NAMES } from './policy-config.js';
export type { PolicyConfig, PolicyName } from './policy-config.js';
export { loadCaConfigs, LETS_ENCRYPT_BUDGETS } from './ca-config.js';
export type { CaConfig } from './ca-config.js';
export { loadUpstreamConfig } from './upstream-config.js';
export type { UpstreamConfig } from './upstream-config.js';
export {
  createAddressPolicy,
  describeRefusal,
  METADATA_ADDRESSES,
  parseNetwork,
  redisAddressesOf,
  specialRangeOf,
} from './address-policy.js';
export type { AddressPolicy, AddressPolicyOptions, AddressRefusal, Network, RefusedRange, SpecialRange } from './address-policy.js';
export { loadConnectionLimitsConfig } from './connection-config.js';
export type { ConnectionLimitsConfig } from './connection-config.js';
export { loadWebhookConfig } from './webhook-config.js';
export type { WebhookConfig } from './webhook-config.js';
