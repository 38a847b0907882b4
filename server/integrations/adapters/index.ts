/** The adapter of each target type, and where each sends (for the status page). */
import type { IntegrationTarget } from '../config.ts';
import { createElasticAdapter } from './elastic.ts';
import { createEmailAdapter } from './email.ts';
import { createLokiAdapter } from './loki.ts';
import { createSplunkHecAdapter } from './splunk-hec.ts';
import { createSyslogAdapter } from './syslog.ts';
import type { Adapter, AdapterContext } from './types.ts';
import { createWebhookAdapter } from './webhook.ts';

export function createAdapter(target: IntegrationTarget, ctx: AdapterContext): Adapter {
  switch (target.type) {
    case 'webhook':
      return createWebhookAdapter(target, ctx);
    case 'email':
      return createEmailAdapter(target, ctx);
    case 'syslog':
      return createSyslogAdapter(target, ctx);
    case 'splunk_hec':
      return createSplunkHecAdapter(target, ctx);
    case 'loki':
      return createLokiAdapter(target, ctx);
    case 'elastic':
      return createElasticAdapter(target, ctx);
  }
}

export function targetEndpoint(target: IntegrationTarget): string {
  switch (target.type) {
    case 'email':
      return `smtp://${target.host}:${target.port}`;
    case 'syslog':
      return `syslog+${target.transport}://${target.host}:${target.port}`;
    default:
      return new URL(target.url).origin;
  }
}
