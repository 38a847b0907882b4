# Shared by the maintainer scripts of vigo-agent (copied into each when the package is built).
# DPKG_ROOT is set when dpkg installs into another root (dpkg --root with --force-script-chrootless):
# the service manager of this machine is then never asked to start or stop anything.
unit=vigo-envoy.service
state_dir="${DPKG_ROOT:-}/var/lib/vigo"

# The live system under a running systemd, not another root or a chroot without one.
live() { [ -z "${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

# systemctl for unit files (enable, disable): works offline and on another root.
unit_files() {
  command -v systemctl >/dev/null 2>&1 || return 0
  if [ -n "${DPKG_ROOT:-}" ]; then systemctl --root="$DPKG_ROOT" "$@"; else systemctl "$@"; fi
}

# Enrolled: `vigo enroll` wrote the identity this agent checks in with.
enrolled() { [ -s "$state_dir/identity.json" ]; }
