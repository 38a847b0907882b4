/**
 * Events out: the event sinks of server.yaml `integrations:` (webhook, email, syslog, Splunk HEC, Loki,
 * Elastic) over one durable SQLite delivery queue. docs/integrations.md documents every wire format.
 */
export { integrationLimits, parseIntegrationTargets, targetTypes } from './config.ts';
export type { IntegrationTarget, SecretRef, TargetType } from './config.ts';
export { createIntegrations } from './runtime.ts';
export type { IntegrationStatus, Integrations, IntegrationsOptions, TestDeliveryResult } from './runtime.ts';
export { eventSeverity, severities } from './severity.ts';
export type { Severity } from './severity.ts';
