/**
 * The command an operator pastes on a new host to install the agent and enroll it: one line of POSIX sh,
 * built once here for `vigocli enroll token create` (through the REST reply) and the web UI's Add hosts
 * page.
 *
 * It trusts nothing it downloads until the CA is pinned: the CA is fetched without verification (the
 * host has no trust anchor yet), its SHA-256 fingerprint (over the DER certificate, as `openssl x509
 * -fingerprint -sha256` shows it) is compared with the one written into the command, and only then is the
 * install script fetched, verified against that CA, and run; the script checks the fingerprint of the CA
 * it downloads itself as well. The enrollment token never appears in the command: the script reads it
 * from a file (`--token-file`) and hands the file to `vigo enroll`, so it is in no process's arguments and
 * in no shell history.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { shellQuote } from './script.ts';

/** Where the command expects the token, relative to the directory it is run in. */
export const defaultTokenFileName = 'vigo-enroll-token';

export interface InstallCommand {
  /** The one line to paste on the host. */
  readonly command: string;
  /** Lower-case hex SHA-256 of the CA certificate in DER form. */
  readonly caSha256: string;
  /** The file the command reads the token from. */
  readonly tokenFile: string;
  /** How to put the token into that file without it reaching the shell history. */
  readonly tokenFileHint: string;
}

/** SHA-256 over the first certificate's DER bytes, lower-case hex. */
export function caFingerprintSha256(caCertPem: string): string {
  return createHash('sha256').update(new X509Certificate(caCertPem).raw).digest('hex');
}

const serverAddressPattern = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export function renderInstallCommand(input: {
  /** host:port of the HTTPS API as hosts reach it (the bootstrap script's own address). */
  readonly serverAddress: string;
  readonly caCertPem: string;
  readonly tokenFile?: string;
}): InstallCommand {
  if (!serverAddressPattern.test(input.serverAddress)) {
    throw new Error(
      `install command: server address ${JSON.stringify(input.serverAddress)} is not host:port`,
    );
  }
  const tokenFile = input.tokenFile ?? defaultTokenFileName;
  const fp = caFingerprintSha256(input.caCertPem);
  const base = `https://${input.serverAddress}/bootstrap`;
  const ca = 'vigo-ca.crt';
  const check =
    `[ "$(sed '/-----/d' ${ca} | base64 -d | sha256sum | cut -d ' ' -f 1)" = ${fp} ]` +
    ` || { echo 'vigo: the CA served by ${input.serverAddress} does not match the pinned fingerprint; stopped' >&2; false; }`;
  const command =
    `curl -sSfk --proto '=https' -o ${ca} ${shellQuote(`${base}/ca.crt`)}` +
    ` && { ${check}; }` +
    ` && curl -sSf --proto '=https' --cacert ${ca} ${shellQuote(base)}` +
    ` | sudo sh -s -- --ca-sha256 ${fp} --token-file ${shellQuote(tokenFile)}`;
  return {
    command,
    caSha256: fp,
    tokenFile,
    tokenFileHint: `(umask 077; cat > ${shellQuote(tokenFile)})   # paste the token, then press Enter and Ctrl-D`,
  };
}
