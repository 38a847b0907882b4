/**
 * selinux {enabled, mode, config_mode, policy_type, policy_version}: the running mode from selinuxfs
 * (/sys/fs/selinux/enforce: "enforcing" or "permissive"; "disabled" when SELinux is not active) and
 * what /etc/selinux/config asks for at the next boot. Hosts without SELinux report enabled false.
 */
import { join } from 'node:path';
import { parseOsRelease } from './os.ts';
import { readSysValue, readTextBounded } from './read.ts';
import type { TraitCollector } from './types.ts';

export const selinuxCollector: TraitCollector = {
  name: 'selinux',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    const fs = join(env.sysRoot, 'fs/selinux');
    const enforce = await readSysValue(join(fs, 'enforce'));
    const mode = enforce === '1' ? 'enforcing' : enforce === '0' ? 'permissive' : 'disabled';
    const version = Number(await readSysValue(join(fs, 'policyvers')));
    const config = await readTextBounded(join(env.etcRoot, 'selinux/config'), 64 * 1024);
    const fields = config === null ? new Map<string, string>() : parseOsRelease(config.text);
    const configMode = fields.get('SELINUX')?.toLowerCase() ?? null;
    return {
      selinux: {
        enabled: mode !== 'disabled',
        mode,
        config_mode:
          configMode === null || /^(enforcing|permissive|disabled)$/.test(configMode) ? configMode : null,
        policy_type: fields.get('SELINUXTYPE') || null,
        policy_version: mode !== 'disabled' && Number.isSafeInteger(version) && version > 0 ? version : null,
      },
    };
  },
};
