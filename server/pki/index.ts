export { loadOrCreatePki } from './pki.ts';
export type { IssuedEnvoyCert, Pki, PkiOptions, SignEnvoyCsrInput } from './pki.ts';
export { generateAgentKeyAndCsr } from './csr.ts';
export { envoyIdFromCert, envoyUri, fingerprintSha256, isEnvoyId } from './envoy-identity.ts';
