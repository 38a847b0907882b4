/**
 * locale {lang, language, encoding, settings}: the system-wide locale the host's services start with,
 * from /etc/locale.conf (systemd: localectl), /etc/default/locale (Debian) or /etc/sysconfig/i18n
 * (older RHEL). `settings` holds every LANG, LANGUAGE and LC_* assignment found; a host with none set
 * runs in the C locale (lang null).
 */
import { join } from 'node:path';
import { parseOsRelease } from './os.ts';
import { readTextBounded } from './read.ts';
import type { TraitCollector } from './types.ts';

const files = ['locale.conf', 'default/locale', 'sysconfig/i18n'];
const localeKey = /^(LANG|LANGUAGE|LC_[A-Z_]+)$/;

/** "en_US.UTF-8@euro" → language en_US, encoding UTF-8. */
export function splitLocale(lang: string): { language: string; encoding: string | null } {
  const match = /^([^.@]+)(?:\.([^@]+))?/.exec(lang);
  return { language: match?.[1] ?? lang, encoding: match?.[2] ?? null };
}

export const localeCollector: TraitCollector = {
  name: 'locale',
  volatile: false,
  timeoutMs: 5000,
  async collect(env) {
    const settings: Record<string, string> = {};
    for (const file of files) {
      const read = await readTextBounded(join(env.etcRoot, file), 64 * 1024);
      if (read === null) continue;
      for (const [key, value] of parseOsRelease(read.text))
        if (localeKey.test(key) && !Object.hasOwn(settings, key) && value !== '') settings[key] = value;
    }
    const lang = settings.LC_ALL ?? settings.LANG ?? null;
    const parts = lang === null ? { language: null, encoding: null } : splitLocale(lang);
    return { locale: { lang, ...parts, settings } };
  },
};
