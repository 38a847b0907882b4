/**
 * Renders the POSIX sh bootstrap script from bootstrap.sh. Every value the server writes into it is
 * single-quoted for sh, and the unit file goes in through a quoted here-document, so no rendered value
 * is ever expanded or executed by the shell.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const bootstrapTemplateFile = path.join(import.meta.dirname, 'bootstrap.sh');

const unitDelimiter = 'VIGO_UNIT_EOF';
const placeholders = ['@VIGO_SERVER@', '@VIGO_VERSION@', '@VIGO_UNIT@'] as const;

export interface BootstrapScriptInput {
  /** The template text: bootstrap.sh as read at startup. */
  readonly template: string;
  /** host:port of this server's HTTPS API as hosts reach it, e.g. "vigo.example.com:8443" or "[2001:db8::1]:8443". */
  readonly serverAddress: string;
  readonly serverVersion: string;
  /** The systemd unit the script installs as vigo-envoy.service. */
  readonly unitFileText: string;
}

/** Quotes text as one sh word: inside single quotes nothing is special except the quote itself. */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

const serverAddressPattern = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/** Reads the template once; a missing or edited-to-broken template fails at startup, not on a request. */
export function loadBootstrapTemplate(file: string = bootstrapTemplateFile): string {
  const template = readFileSync(file, 'utf8');
  for (const placeholder of placeholders) {
    if (!template.includes(placeholder))
      throw new Error(`${file}: the placeholder ${placeholder} is missing`);
  }
  return template;
}

/** Checks the unit text can sit inside the script's here-document; throws on a line that would end it. */
export function checkUnitFileText(unitFileText: string, source: string): void {
  if (unitFileText.split('\n').some((line) => line.trimEnd() === unitDelimiter)) {
    throw new Error(`${source}: a line reading ${unitDelimiter} would end the here-document in the script`);
  }
  if (unitFileText.includes('\0')) throw new Error(`${source}: contains a NUL byte`);
}

export function renderBootstrapScript(input: BootstrapScriptInput): string {
  if (!serverAddressPattern.test(input.serverAddress)) {
    throw new Error(`bootstrap: server address ${JSON.stringify(input.serverAddress)} is not host:port`);
  }
  checkUnitFileText(input.unitFileText, 'unit file');
  const values: Record<(typeof placeholders)[number], string> = {
    '@VIGO_SERVER@': shellQuote(input.serverAddress),
    '@VIGO_VERSION@': shellQuote(input.serverVersion),
    '@VIGO_UNIT@': input.unitFileText.replace(/\n+$/, ''),
  };
  // A replacer function, so "$&" or "$1" in a value are taken literally.
  return input.template.replace(
    /@VIGO_(SERVER|VERSION|UNIT)@/g,
    (match) => values[match as keyof typeof values],
  );
}
