/**
 * vault.json: every secret's ciphertext in one file, replaced atomically on each change, so a change and
 * the epoch bump it causes land together or not at all. The file holds no plaintext; it is parsed
 * strictly, and anything unexpected is `secrets.vault_corrupt` rather than a guess.
 */
import { existsSync, readFileSync } from 'node:fs';
import { VigoError } from '../core/index.ts';
import { replaceFileAtomic } from './atomic-file.ts';
import { nonceBytes, tagBytes } from './cipher.ts';
import type { SealedSecret } from './cipher.ts';
import { secretPathProblem } from './secret-path.ts';

export const vaultFileName = 'vault.json';
const formatVersion = 1;
const keyIdPattern = /^[0-9a-f]{16}$/;

export interface VaultDocument {
  /** The master key every secret in the file is encrypted with. */
  readonly keyId: string;
  readonly secretsEpoch: number;
  readonly secrets: ReadonlyMap<string, SealedSecret>;
}

interface SecretJson {
  path: string;
  version: number;
  nonce: string;
  ciphertext: string;
  tag: string;
  keyId: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export function serializeVault(doc: VaultDocument): string {
  const secrets: SecretJson[] = [...doc.secrets.values()]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((s) => ({
      path: s.path,
      version: s.version,
      nonce: s.nonce.toString('base64'),
      ciphertext: s.ciphertext.toString('base64'),
      tag: s.tag.toString('base64'),
      keyId: s.keyId,
      createdAtMs: s.createdAtMs,
      updatedAtMs: s.updatedAtMs,
    }));
  const body = { format: formatVersion, keyId: doc.keyId, secretsEpoch: doc.secretsEpoch, secrets };
  return `${JSON.stringify(body, null, 2)}\n`;
}

export function writeVaultFile(file: string, doc: VaultDocument): void {
  replaceFileAtomic(file, Buffer.from(serializeVault(doc), 'utf8'));
}

/** The vault in `file`, or undefined when no secret has been stored yet. */
export function readVaultFile(file: string): VaultDocument | undefined {
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw vaultError(file, `it is not JSON (${(err as Error).message})`);
  }
  return parseVault(json, file);
}

function vaultError(file: string, problem: string): VigoError {
  return new VigoError(
    'secrets.vault_corrupt',
    `${file} is not a valid secrets vault: ${problem}; restore vault.json and master.key together from a backup`,
    { file },
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
}

export function parseVault(json: unknown, file: string): VaultDocument {
  if (!isObject(json)) throw vaultError(file, 'the top level is not an object');
  if (json.format !== formatVersion)
    throw vaultError(file, `format is ${JSON.stringify(json.format)}, expected ${formatVersion}`);
  const { keyId, secretsEpoch } = json;
  if (typeof keyId !== 'string' || !keyIdPattern.test(keyId))
    throw vaultError(file, 'keyId is not 16 hex digits');
  if (!isCount(secretsEpoch, 0)) throw vaultError(file, 'secretsEpoch is not a non-negative integer');
  if (!Array.isArray(json.secrets)) throw vaultError(file, 'secrets is not a list');
  const secrets = new Map<string, SealedSecret>();
  json.secrets.forEach((item: unknown, index: number) => {
    const secret = parseSecret(item, keyId, (problem) => vaultError(file, `secrets[${index}]: ${problem}`));
    if (secrets.has(secret.path))
      throw vaultError(file, `secrets[${index}]: path ${secret.path} appears more than once`);
    secrets.set(secret.path, secret);
  });
  return { keyId, secretsEpoch, secrets };
}

function parseBytes(value: unknown, name: string, fail: (p: string) => VigoError): Buffer {
  if (typeof value !== 'string') throw fail(`${name} is not a string`);
  const bytes = Buffer.from(value, 'base64');
  // Node's base64 decoder skips junk; re-encoding catches it.
  if (bytes.toString('base64') !== value) throw fail(`${name} is not canonical base64`);
  return bytes;
}

function parseSecret(item: unknown, keyId: string, fail: (p: string) => VigoError): SealedSecret {
  if (!isObject(item)) throw fail('not an object');
  const { path, version, createdAtMs, updatedAtMs } = item;
  if (typeof path !== 'string') throw fail('path is not a string');
  const problem = secretPathProblem(path);
  if (problem !== undefined) throw fail(`path is invalid: ${problem}`);
  if (!isCount(version, 1)) throw fail('version is not a positive integer');
  if (!isCount(createdAtMs, 0) || !isCount(updatedAtMs, 0))
    throw fail('createdAtMs/updatedAtMs are not times');
  if (item.keyId !== keyId) throw fail(`keyId is not the vault's key ${keyId}`);
  const nonce = parseBytes(item.nonce, 'nonce', fail);
  const tag = parseBytes(item.tag, 'tag', fail);
  const ciphertext = parseBytes(item.ciphertext, 'ciphertext', fail);
  if (nonce.length !== nonceBytes) throw fail(`nonce is ${nonce.length} bytes, expected ${nonceBytes}`);
  if (tag.length !== tagBytes) throw fail(`tag is ${tag.length} bytes, expected ${tagBytes}`);
  return { path, version, nonce, ciphertext, tag, keyId, createdAtMs, updatedAtMs };
}
