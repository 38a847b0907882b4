/**
 * The OSCAL assessment-results export (NIST OSCAL 1.0.4, JSON) of one framework over a set of envoys:
 * one result for the assessment, one finding per control, one observation per envoy and control from its
 * claiming resources' outcomes, and each active waiver as a risk with status `deviation-approved`.
 * docs/compliance.md "OSCAL export" maps every field.
 *
 * The document is written piece by piece in time slices, yielding to the event loop between them, so an
 * export over a large fleet never stalls check-ins.
 */
import { createHash, randomUUID } from 'node:crypto';
import { VigoError } from '../core/index.ts';
import { compileGlob } from '../policy/index.ts';
import type { ControlState, EnvoyCompliance } from './model.ts';
import type { ComplianceService } from './service.ts';

export const oscalVersion = '1.0.4';
/** Namespace of the name-based (v5) UUIDs: the same envoy, control or waiver keeps its UUID across exports. */
const vigoNamespace = Buffer.from('6f1d6b0c8e3a4f57b2a19d1c3e5f7a90', 'hex');
const propNs = 'https://vigo.invalid/ns/oscal';
const maxGlobLength = 253;

/** A name-based UUID (RFC 4122 version 5) in Vigo's namespace. */
export function uuidV5(name: string): string {
  const h = createHash('sha1').update(vigoNamespace).update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * An OSCAL control-id (a token: a letter or "_" first, then letters, digits, ".", "-", "_") from a control
 * id as frameworks write it: lower case, each "(x)" becomes ".x" (AC-2(1) → ac-2.1, the NIST catalog's
 * form), "/" becomes "_", and an id starting with a digit gets a leading "_" (1.1.1 → _1.1.1).
 */
export function oscalControlId(control: string): string {
  const t = control
    .toLowerCase()
    .replace(/\(([^()]*)\)/g, '.$1')
    .replace(/[()]/g, '')
    .replace(/\//g, '_');
  return /^[a-z_]/.test(t) ? t : `_${t}`;
}

export interface OscalRequest {
  readonly framework: string;
  /** Hostname glob; every evaluated envoy when undefined. */
  readonly envoys?: string;
}

export interface OscalOptions {
  readonly now?: () => number;
  /** Longest one slice keeps the event loop (default 10 ms). */
  readonly sliceMs?: number;
  /** The active configuration version, written as the document's version. */
  readonly version?: () => number;
}

interface ControlAcc {
  enforced: number;
  failing: number;
  waived: number;
  pending: number;
  observations: string[];
  risks: Set<string>;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const yieldNow = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function hostMatcher(glob: string | undefined): (hostname: string) => boolean {
  if (glob === undefined) return () => true;
  const re = glob.length > 0 && glob.length <= maxGlobLength ? compileGlob(glob) : 'empty or too long';
  if (typeof re === 'string')
    throw new VigoError(
      'request.invalid',
      `envoys: ${JSON.stringify(glob.slice(0, 80))} is not a hostname glob`,
      {
        field: 'envoys',
      },
    );
  return (hostname) => re.test(hostname);
}

function observation(
  status: EnvoyCompliance,
  framework: string,
  control: string,
  state: ControlState,
): string {
  const f = status.frameworks.find((x) => x.framework === framework)!;
  const c = f.controls.find((x) => x.control === control)!;
  const outcomes = c.resources
    .map(
      (r) =>
        `${r.resourceId}: ${r.outcome ?? 'not reported'}${r.runId === undefined ? '' : ` (run ${r.runId})`}`,
    )
    .join('; ');
  return JSON.stringify({
    uuid: uuidV5(`observation\0${status.envoyId}\0${framework}\0${control}`),
    title: `${framework} ${control} on ${status.hostname}: ${state}`,
    description: `Last outcome of each resource claiming ${framework} ${control}: ${outcomes || 'none'}.`,
    props: [
      { name: 'control-state', ns: propNs, value: state },
      { name: 'control-id', ns: propNs, value: control },
    ],
    methods: ['TEST'],
    types: ['control-objective'],
    subjects: [
      { 'subject-uuid': uuidV5(`envoy\0${status.envoyId}`), type: 'inventory-item', title: status.hostname },
    ],
    collected: iso(status.computedAtMs),
  });
}

/** A prepared export: every check passed; its text comes in chunks. */
export interface OscalExport {
  /** The document in pieces of about `chunkChars`, yielding to the event loop between slices. */
  chunks(): AsyncGenerator<string, void, undefined>;
}

const chunkChars = 64 * 1024;

/** The whole document as one string (tests, small exports). */
export async function buildOscalAssessmentResults(
  service: ComplianceService,
  request: OscalRequest,
  options: OscalOptions = {},
): Promise<string> {
  const prepared = await prepareOscalExport(service, request, options);
  let text = '';
  for await (const chunk of prepared.chunks()) text += chunk;
  return text;
}

/**
 * Checks the request and gathers what the document needs, in time slices; throws compliance.framework_unknown
 * for a framework no matching envoy claims and request.invalid for a malformed glob, before any byte is sent.
 * Observations are serialized only while the document streams.
 */
export async function prepareOscalExport(
  service: ComplianceService,
  request: OscalRequest,
  options: OscalOptions = {},
): Promise<OscalExport> {
  const now = options.now ?? Date.now;
  const sliceMs = options.sliceMs ?? 10;
  const matches = hostMatcher(request.envoys);
  const framework = request.framework;
  if (service.tally.summary(framework) === undefined)
    throw new VigoError(
      'compliance.framework_unknown',
      `no envoy claims a control of framework ${framework}`,
      {
        framework,
      },
    );
  const startedMs = now();
  const waivers = new Map(service.waivers().map((w) => [w.id, w]));
  const controls = new Map<string, ControlAcc>();
  const observations: { status: EnvoyCompliance; control: string; state: ControlState }[] = [];
  const riskEnvoys = new Map<string, string[]>();
  const statuses = [...service.statuses()];
  let envoys = 0;
  let until = performance.now() + sliceMs;
  for (const status of statuses) {
    if (performance.now() >= until) {
      await yieldNow();
      until = performance.now() + sliceMs;
    }
    if (!matches(status.hostname)) continue;
    const f = status.frameworks.find((x) => x.framework === framework);
    if (f === undefined) continue;
    envoys += 1;
    for (const c of f.controls) {
      let acc = controls.get(c.control);
      if (acc === undefined) {
        acc = { enforced: 0, failing: 0, waived: 0, pending: 0, observations: [], risks: new Set() };
        controls.set(c.control, acc);
      }
      acc[c.state] += 1;
      const uuid = uuidV5(`observation\0${status.envoyId}\0${framework}\0${c.control}`);
      observations.push({ status, control: c.control, state: c.state });
      acc.observations.push(uuid);
      for (const w of c.waivers) {
        acc.risks.add(w);
        const list = riskEnvoys.get(w) ?? [];
        list.push(uuid);
        riskEnvoys.set(w, list);
      }
    }
  }
  if (envoys === 0)
    throw new VigoError(
      'compliance.framework_unknown',
      `no envoy matching ${request.envoys ?? '*'} claims ${framework}`,
      {
        framework,
        envoys: request.envoys ?? null,
      },
    );
  const controlIds = [...controls.keys()].sort();
  const risks = [...riskEnvoys.keys()].sort().map((id) => {
    const w = waivers.get(id)!;
    return JSON.stringify({
      uuid: uuidV5(`waiver\0${id}`),
      title: `Waiver of ${w.framework} ${w.control} for ${w.match.join(', ')}`,
      description: w.reason,
      statement: `Accepted by ${w.owner} until ${w.expires} (${w.source}).`,
      props: [
        { name: 'waiver-id', ns: propNs, value: id },
        { name: 'owner', ns: propNs, value: w.owner },
        { name: 'expires', ns: propNs, value: w.expires },
      ],
      status: 'deviation-approved',
      deadline: iso(w.expiresAtMs),
      'related-observations': riskEnvoys.get(id)!.map((u) => ({ 'observation-uuid': u })),
    });
  });
  const findings = controlIds.map((control) => (): string => {
    const acc = controls.get(control)!;
    const satisfied = acc.failing === 0 && acc.pending === 0;
    return JSON.stringify({
      uuid: uuidV5(`finding\0${framework}\0${control}`),
      title: `${framework} ${control}`,
      description:
        `${acc.enforced} enforced, ${acc.failing} failing, ${acc.waived} waived and ${acc.pending} pending ` +
        `of ${acc.observations.length} envoys claiming ${framework} ${control}.`,
      props: (['enforced', 'failing', 'waived', 'pending'] as const).map((s) => ({
        name: `envoys-${s}`,
        ns: propNs,
        value: String(acc[s]),
      })),
      target: {
        type: 'objective-id',
        'target-id': oscalControlId(control),
        title: control,
        status: { state: satisfied ? 'satisfied' : 'not-satisfied' },
      },
      'related-observations': acc.observations.map((u) => ({ 'observation-uuid': u })),
      ...(acc.risks.size > 0
        ? { 'related-risks': [...acc.risks].sort().map((id) => ({ 'risk-uuid': uuidV5(`waiver\0${id}`) })) }
        : {}),
    });
  });
  const endMs = now();
  const head = {
    uuid: randomUUID(),
    metadata: {
      title: `Vigo compliance assessment: ${framework}`,
      'last-modified': iso(endMs),
      version: String(options.version?.() ?? 0),
      'oscal-version': oscalVersion,
    },
    'import-ap': {
      href: '#vigo-active-configuration',
      remarks: 'The assessment plan is the active Vigo configuration: its compliance claims and waivers.',
    },
  };
  const result = {
    uuid: randomUUID(),
    title: `${framework} controls on ${envoys} envoys`,
    description:
      `Controls of ${framework} claimed by configcrates, assessed from the last outcome of every claiming ` +
      `resource on ${envoys} envoys${request.envoys === undefined ? '' : ` matching ${request.envoys}`}.`,
    start: iso(startedMs),
    end: iso(endMs),
    'reviewed-controls': {
      'control-selections': [
        { 'include-controls': controlIds.map((c) => ({ 'control-id': oscalControlId(c) })) },
      ],
    },
  };
  return {
    async *chunks() {
      let until = performance.now() + sliceMs;
      let buffer = `{"assessment-results":${JSON.stringify(head).slice(0, -1)},"results":[`;
      buffer += `${JSON.stringify(result).slice(0, -1)},"observations":[`;
      for (let i = 0; i < observations.length; i++) {
        const o = observations[i]!;
        buffer += (i === 0 ? '' : ',') + observation(o.status, framework, o.control, o.state);
        if (buffer.length >= chunkChars) {
          yield buffer;
          buffer = '';
          if (performance.now() >= until) {
            await yieldNow();
            until = performance.now() + sliceMs;
          }
        }
      }
      buffer += ']';
      if (risks.length > 0) buffer += `,"risks":[${risks.join(',')}]`;
      yield buffer;
      buffer = ',"findings":[';
      for (let i = 0; i < findings.length; i++) {
        buffer += (i === 0 ? '' : ',') + findings[i]!();
        if (buffer.length >= chunkChars) {
          yield buffer;
          buffer = '';
        }
      }
      yield `${buffer}]}]}}`;
    },
  };
}
