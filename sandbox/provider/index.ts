export { createProviderDouble, type ProviderDouble, type ProviderKeySummary } from './provider-double';
export type { AuditLogEntry, KeyView, ProviderKeyStatus } from './key-registry';
