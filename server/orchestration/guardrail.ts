/**
 * The server-side task guardrail: a command that would stop or kill the Vigo agent or server, or delete
 * the server's data, is refused (task.blocked) unless the operator says `force`. It catches the slips an
 * operator makes when aiming a fleet-wide command, not a determined attacker — anyone with push.execute
 * can run arbitrary commands on the targets anyway; the refusal and every forced bypass are audited.
 */

export interface DangerousPattern {
  readonly name: string;
  readonly pattern: RegExp;
}

const vigoUnit = String.raw`vigo(?:srv|-envoy|-agent)?(?:\.service)?\b`;
const vigoProcess = String.raw`vigo(?:srv|-envoy|-agent)?\b`;

/** The fixed list; `dataDirs` adds the server's own data directory to the protected paths. */
export function dangerousPatterns(dataDirs: readonly string[] = []): DangerousPattern[] {
  const paths = ['/srv/vigo', '/var/lib/vigo', '/etc/vigo', '/etc/vigo-envoy', ...dataDirs]
    .map((p) => p.replace(/\/+$/, ''))
    .filter((p) => p.length > 1)
    .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const protectedPath = `(?:${paths.join('|')})(?:/|\\s|$|['"*])`;
  return [
    {
      name: 'systemctl stop/kill/disable/mask of a vigo unit',
      pattern: new RegExp(
        String.raw`\bsystemctl\b[^;&|\n]*\b(?:stop|kill|disable|mask|halt)\b[^;&|\n]*\b${vigoUnit}`,
        'i',
      ),
    },
    {
      name: 'service vigo stop',
      pattern: new RegExp(String.raw`\bservice\s+${vigoUnit}\s+(?:stop|kill)\b`, 'i'),
    },
    {
      name: 'pkill/killall of a vigo process',
      pattern: new RegExp(String.raw`\b(?:pkill|killall)\b[^;&|\n]*\b${vigoProcess}`, 'i'),
    },
    {
      name: 'kill of a vigo process by pidof/pgrep',
      pattern: new RegExp(String.raw`\bkill\b[^;&|\n]*\b(?:pidof|pgrep)\b[^;&|\n]*\b${vigoProcess}`, 'i'),
    },
    {
      name: 'rm/unlink/shred of a vigo data or config directory',
      pattern: new RegExp(String.raw`\b(?:rm|unlink|shred|rmdir)\b[^;&|\n]*\s['"]?${protectedPath}`, 'i'),
    },
  ];
}

/** The first pattern `command` matches, or undefined. */
export function matchDangerous(
  command: string,
  patterns: readonly DangerousPattern[],
): DangerousPattern | undefined {
  return patterns.find((p) => p.pattern.test(command));
}
