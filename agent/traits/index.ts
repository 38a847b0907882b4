/**
 * Traits: facts about the machine the agent runs on, collected by createTraitCollector() and sent at
 * check-in as traitsPayload(traits) — the traits without their volatile values (see canonical-json.ts
 * for why) and its hash. The server's when: builtins read TRAIT_PATHS from them; templates read them
 * as `.Traits`. The tree (null where a value is unknown):
 *
 *   os {family, distro, version, codename, pretty_name}   kernel {release, version}   arch
 *   hostname   fqdn   cpu {count, model}   memory {total_mb, free_mb*, available_mb*}
 *   swap {total_mb, free_mb*}   mounts [{mountpoint, device, fstype, size_mb, used_mb*}]
 *   host_self {fs_root_pct}*   network {interfaces [{name, mac, addresses ["cidr"]}]}
 *   uptime_seconds*   load {1m, 5m, 15m}*   packages {manager, count, installed {name: version}}
 *   users {accounts [{name, uid, gid, home, shell}], human [name]}
 *   systemd {present, units? [running service names]}   container {is_container, runtime}
 *   time {epoch_seconds, utc, utc_offset}*   timezone {name}
 *   locale {lang, language, encoding, settings}   dmi {available, vendor, product, serial, …}
 *   cloud {provider, instance_id, region, zone, instance_type, sources}   blockdevices [{name, size_mb, …}]
 *   docker {installed, engine, …}   selinux {enabled, mode, …}   gpu {count, devices, nvidia_driver}
 *   cert_expiry {certificates [{path, not_after, expired, days_left*, …}]}
 *   ports {tcp, udp, listening [{proto, address, port}], truncated}
 *   security_scan {manager, security_updates, pending_updates, packages}
 *
 * Vigo's names processors, mountpoints, filesystem, loadavg, virtual and hardware resolve to cpu, mounts,
 * mounts, load, container and dmi where paths are read (server/policy/when/trait-aliases.ts).
 * `*` marks volatile values: collected at every run, never hashed nor sent to the server.
 */
export type { TraitCollector, TraitEnv, TraitError, TraitSettings, Traits } from './types.ts';
export { defaultTraitSettings } from './types.ts';
export { createTraitCollector, defaultStableTtlMs, defaultTraitEnv } from './trait-source.ts';
export type { CollectOptions, TraitRun, TraitSource, TraitSourceOptions } from './trait-source.ts';
export { defaultTraitCollectors } from './collectors.ts';
export {
  canonicalJson,
  hashableTraits,
  maxTraitsJsonBytes,
  traitsHash,
  traitsPayload,
  volatileTraitPaths,
} from './canonical-json.ts';
export type { TraitsPayload } from './canonical-json.ts';
