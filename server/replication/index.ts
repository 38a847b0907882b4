export { parsePeers, fingerprintPattern } from './config.ts';
export type { PeerConfig } from './config.ts';
export { loadOrCreatePeerIdentity, fingerprintOf } from './peer-identity.ts';
export type { PeerIdentity } from './peer-identity.ts';
export { ReplicationNode } from './node.ts';
export type { ReplicationOptions, ReplicationStatus } from './node.ts';
export { initialState, readState, writeState, replicationDir } from './state.ts';
export type { ReplicationState, Role } from './state.ts';
export { Replica } from './replica.ts';
