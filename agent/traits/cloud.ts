/**
 * cloud {provider, instance_id, region, zone, instance_type, sources}: which cloud the instance runs in
 * and what it is there. Read first from the firmware (DMI: vendor, product, asset tags) and from
 * cloud-init's local files (/run/cloud-init/instance-data.json, /var/lib/cloud/data/instance-id); no
 * network. Only when the agent config sets `traits.cloud_metadata: true` does it also ask the
 * provider's instance metadata service at its link-local address (AWS IMDSv2, GCP, Azure IMDS), each
 * request bounded to one second and 64 KiB. A host in no known cloud reports provider null.
 */
import { join } from 'node:path';
import { readDmi } from './dmi.ts';
import type { DmiFields } from './dmi.ts';
import { readTextBounded } from './read.ts';
import type { TraitCollector, TraitEnv } from './types.ts';

const requestTimeoutMs = 1000;
const maxResponseBytes = 64 * 1024;
export const defaultMetadataUrl = 'http://169.254.169.254';

interface CloudFacts {
  provider: string | null;
  instance_id: string | null;
  region: string | null;
  zone: string | null;
  instance_type: string | null;
  /** Where the facts came from, in the order they were read. */
  sources: Source[];
}

type Source = 'dmi' | 'cloud-init' | 'metadata';

const byVendor: readonly [RegExp, string][] = [
  [/^amazon ec2$/i, 'aws'],
  [/^google( compute engine)?$/i, 'gcp'],
  [/^digitalocean$/i, 'digitalocean'],
  [/^hetzner$/i, 'hetzner'],
  [/^openstack (foundation|nova|compute)$/i, 'openstack'],
  [/^alibaba cloud( ecs)?$/i, 'alibaba'],
  [/^scaleway$/i, 'scaleway'],
  [/^vultr$/i, 'vultr'],
  [/^(linode|akamai)$/i, 'linode'],
  [/^exoscale$/i, 'exoscale'],
  [/^tencent cloud$/i, 'tencent'],
];

/** The provider the firmware names, or null (a physical host, or a hypervisor that is not a cloud). */
export function providerFromDmi(dmi: DmiFields): string | null {
  const asset = dmi.get('chassis_asset_tag');
  if (asset === '7783-7084-3265-9085-8269-3286-77') return 'azure';
  if (asset === 'OracleCloud.com') return 'oracle';
  for (const attribute of ['sys_vendor', 'product_name', 'bios_vendor']) {
    const value = dmi.get(attribute);
    if (value === null) continue;
    const hit = byVendor.find(([pattern]) => pattern.test(value));
    if (hit !== undefined) return hit[1];
  }
  // Xen-based EC2 instances: "4.11.amazon" BIOS, UUIDs starting ec2.
  if (/amazon/i.test(dmi.get('bios_version') ?? '') || /^ec2/i.test(dmi.get('product_uuid') ?? ''))
    return 'aws';
  return null;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' && value.length <= 256 ? value : null;
}

/** The `v1` block of cloud-init's instance-data.json (a standard across its data sources). */
export function factsFromCloudInit(json: string): Partial<CloudFacts> {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return {};
  }
  const v1 = (doc as { v1?: unknown } | null)?.v1;
  if (typeof v1 !== 'object' || v1 === null) return {};
  const r = v1 as Record<string, unknown>;
  const cloud = text(r.cloud_name)?.toLowerCase() ?? null;
  const provider = cloud === 'ec2' ? 'aws' : cloud === 'gce' ? 'gcp' : cloud;
  return {
    provider: provider === 'none' || provider === 'nocloud' ? null : provider,
    instance_id: text(r.instance_id),
    region: text(r.region),
    zone: text(r.availability_zone),
  };
}

/** Only link-local (and loopback, for tests) metadata addresses are ever asked. */
export function metadataUrlAllowed(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol !== 'http:' || parsed.username !== '' || parsed.password !== '') return false;
  const host = parsed.hostname;
  return (
    /^169\.254\.\d{1,3}\.\d{1,3}$/.test(host) ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
    host === '[fd00:ec2::254]'
  );
}

async function ask(method: string, url: string, headers: Record<string, string>): Promise<string | null> {
  // Loaded on first use: only hosts with cloud_metadata set ever ask.
  const { request } = await import('node:http');
  return new Promise((resolve) => {
    const req = request(url, { method, headers, timeout: requestTimeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxResponseBytes) {
          req.destroy();
          resolve(null);
        } else chunks.push(chunk);
      });
      res.on('end', () => resolve(res.statusCode === 200 ? Buffer.concat(chunks).toString('utf8') : null));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

async function fromMetadata(provider: string, base: string): Promise<Partial<CloudFacts>> {
  if (provider === 'aws') {
    const token = await ask('PUT', `${base}/latest/api/token`, {
      'X-aws-ec2-metadata-token-ttl-seconds': '60',
    });
    if (token === null) return {};
    const get = (path: string) =>
      ask('GET', `${base}/latest/meta-data/${path}`, { 'X-aws-ec2-metadata-token': token.trim() });
    const [id, region, zone, type] = await Promise.all([
      get('instance-id'),
      get('placement/region'),
      get('placement/availability-zone'),
      get('instance-type'),
    ]);
    return { instance_id: text(id), region: text(region), zone: text(zone), instance_type: text(type) };
  }
  if (provider === 'gcp') {
    const get = async (path: string) =>
      text(await ask('GET', `${base}/computeMetadata/v1/instance/${path}`, { 'Metadata-Flavor': 'Google' }));
    const [id, zonePath, typePath] = await Promise.all([get('id'), get('zone'), get('machine-type')]);
    // "projects/123/zones/europe-west1-b" → zone europe-west1-b, region europe-west1.
    const zone = zonePath?.split('/').pop() ?? null;
    return {
      instance_id: id,
      zone,
      region: zone?.replace(/-[a-z]$/, '') ?? null,
      instance_type: typePath?.split('/').pop() ?? null,
    };
  }
  if (provider === 'azure') {
    const body = await ask('GET', `${base}/metadata/instance/compute?api-version=2021-02-01`, {
      Metadata: 'true',
    });
    let doc: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(body ?? '');
      if (typeof parsed === 'object' && parsed !== null) doc = parsed as Record<string, unknown>;
    } catch {
      return {};
    }
    return {
      instance_id: text(doc.vmId),
      region: text(doc.location),
      zone: text(doc.zone),
      instance_type: text(doc.vmSize),
    };
  }
  return {};
}

function merge(facts: CloudFacts, more: Partial<CloudFacts>, source: Source): void {
  let used = false;
  for (const key of ['provider', 'instance_id', 'region', 'zone', 'instance_type'] as const) {
    const value = more[key];
    if (value !== undefined && value !== null && facts[key] === null) {
      facts[key] = value;
      used = true;
    }
  }
  if (used && !facts.sources.includes(source)) facts.sources.push(source);
}

async function collectCloud(env: TraitEnv): Promise<CloudFacts> {
  const facts: CloudFacts = {
    provider: null,
    instance_id: null,
    region: null,
    zone: null,
    instance_type: null,
    sources: [],
  };
  const dmi = await readDmi(env);
  const provider = providerFromDmi(dmi);
  // Nitro EC2 instances carry the instance ID in the board asset tag.
  const nitroId = provider === 'aws' ? dmi.get('board_asset_tag') : null;
  // …and the instance type as the product name ("t4g.medium").
  const product = provider === 'aws' ? dmi.get('product_name') : null;
  merge(
    facts,
    {
      provider,
      instance_id: /^i-[0-9a-f]{8,32}$/.test(nitroId ?? '') ? nitroId : null,
      instance_type: /^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(product ?? '') ? product : null,
    },
    'dmi',
  );
  const instanceData = await readTextBounded(join(env.runRoot, 'cloud-init/instance-data.json'), 1024 * 1024);
  if (instanceData !== null && !instanceData.truncated) {
    const fromCloudInit = factsFromCloudInit(instanceData.text);
    // cloud-init's own view wins over nothing, never over the firmware's provider.
    if (facts.provider !== null && fromCloudInit.provider !== facts.provider) delete fromCloudInit.provider;
    merge(facts, fromCloudInit, 'cloud-init');
  }
  if (facts.provider !== null && facts.instance_id === null) {
    const id = await readTextBounded(join(env.rootDir, 'var/lib/cloud/data/instance-id'), 4096);
    merge(facts, { instance_id: text(id?.text.trim()) }, 'cloud-init');
  }
  const settings = env.settings;
  if (settings?.cloudMetadata === true && facts.provider !== null) {
    const base = (settings.cloudMetadataUrl ?? defaultMetadataUrl).replace(/\/+$/, '');
    if (!metadataUrlAllowed(base))
      throw new Error(`the cloud metadata URL ${base} is not a link-local http:// address; not asked`);
    merge(facts, await fromMetadata(facts.provider, base), 'metadata');
  }
  return facts;
}

export const cloudCollector: TraitCollector = {
  name: 'cloud',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    return { cloud: await collectCloud(env) };
  },
};
