/**
 * Secrets: the local vault provider (AES-256-GCM per secret under a 0600 master key) and the check-in
 * resolver. Vault operations are plain and unaudited: the use cases that call them append the audit
 * entry (path and version, never the value) in their own transaction.
 */
export { maxSecretValueBytes, openVault } from './vault.ts';
export type {
  BundleSecrets,
  MasterKeyRotation,
  OpenVaultOptions,
  SecretDeleteResult,
  SecretInfo,
  SecretSetResult,
  Vault,
} from './vault.ts';
export {
  assertSecretPath,
  isValidSecretPath,
  maxSecretPathLength,
  secretPathProblem,
} from './secret-path.ts';
export { masterKeyBytes, masterKeyFileName, nextMasterKeyFileName } from './master-key.ts';
export { vaultFileName } from './vault-file.ts';
