#!/bin/sh
# vigo-bootstrap: installs the vigo agent from the vigosrv that served this script, enrolls this host
# and starts the vigo-envoy service.
#
#   curl -sSfk https://SERVER:8443/bootstrap | sudo sh -s -- --token TOKEN [--hostname NAME]
#
# `vigocli enroll token create` and the web UI's Add hosts page print a safer line: it pins the CA by its
# SHA-256 fingerprint before fetching this script over verified TLS, and passes --ca-sha256 and
# --token-file, so the token is in no process's arguments.
#
# vigosrv renders this file: it writes its own advertised address below (never one taken from the
# request), so the script downloads only from that server. Only the CA is fetched without verification
# (-k, as the script itself was); everything after is checked against that CA.
#
# POSIX sh (dash, busybox ash). Exit codes: 0 done, 1 failed, 2 usage error.
set -eu

vigo_server=@VIGO_SERVER@
vigo_server_version=@VIGO_VERSION@

step='starting'
reported=0
work=

say() { printf 'vigo-bootstrap: %s\n' "$*"; }
die() {
  printf 'vigo-bootstrap: error: %s\n' "$*" >&2
  reported=1
  exit 1
}

# set -e stops at the first failing command; this names the step it stopped in.
on_exit() {
  status=$?
  if [ -n "$work" ]; then rm -rf "$work"; fi
  if [ "$status" != 0 ] && [ "$reported" = 0 ]; then
    printf 'vigo-bootstrap: error: failed while %s (exit status %s)\n' "$step" "$status" >&2
  fi
}

usage() {
  cat <<'VIGO_USAGE_EOF'
usage: curl -sSfk https://SERVER:8443/bootstrap | sudo sh -s -- --token-file FILE [options]

Installs the vigo agent, enrolls this host with an enrollment token and starts vigo-envoy.

  --token-file FILE the enrollment token (vigocli enroll token create) is the first line of FILE
  --token TOKEN     the token itself (other users of this host can see it in the process list)
  --ca-sha256 HEX   refuse a CA certificate whose SHA-256 fingerprint (of its DER form) is not HEX
  --hostname NAME   enroll under NAME instead of this host's name
  --no-start        install and enroll, but do not enable or start the vigo-envoy service
  --prefix DIR      install under DIR (DIR/usr/local/..., DIR/var/lib/vigo); no root needed, and the
                    system's service manager is left alone
  -h, --help        show this help
VIGO_USAGE_EOF
}

usage_error() {
  printf 'vigo-bootstrap: %s\n' "$*" >&2
  usage >&2
  reported=1
  exit 2
}

set_option() {
  [ -n "$2" ] || usage_error "$1 needs a value"
  case $1 in
    --token) token=$2 ;;
    --token-file) token_file=$2 ;;
    --ca-sha256) ca_sha256=$2 ;;
    --hostname) enroll_hostname=$2 ;;
    --prefix) prefix=$2 ;;
  esac
}

# Unknown arguments are named without their value: a mistyped --tokn=... must not print the token.
parse_args() {
  token=
  token_file=
  ca_sha256=
  enroll_hostname=
  prefix=
  no_start=0
  while [ $# -gt 0 ]; do
    case $1 in
      --token | --token-file | --ca-sha256 | --hostname | --prefix)
        [ $# -ge 2 ] || usage_error "$1 needs a value"
        case $2 in -*) usage_error "$1 needs a value" ;; esac
        set_option "$1" "$2"
        shift 2
        ;;
      --token=* | --token-file=* | --ca-sha256=* | --hostname=* | --prefix=*)
        set_option "${1%%=*}" "${1#*=}"
        shift
        ;;
      --no-start)
        no_start=1
        shift
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      -*) usage_error "unknown option ${1%%=*}" ;;
      *) usage_error "unexpected argument (not shown, it may be a secret): options start with --" ;;
    esac
  done
  if [ -z "$token" ] && [ -z "$token_file" ]; then
    usage_error "--token-file or --token is required (an admin creates a token with: vigocli enroll token create)"
  fi
  [ -z "$token" ] || [ -z "$token_file" ] || usage_error "give --token or --token-file, not both"
  case $prefix in
    '' | /*) ;;
    *) prefix=$(pwd)/$prefix ;;
  esac
  case $token_file in
    '' | /*) ;;
    *) token_file=$(pwd)/$token_file ;;
  esac
  case $ca_sha256 in
    *[!0-9a-f]*) usage_error "--ca-sha256 must be 64 lower-case hexadecimal digits" ;;
  esac
  [ -z "$ca_sha256" ] || [ "${#ca_sha256}" -eq 64 ] ||
    usage_error "--ca-sha256 must be 64 lower-case hexadecimal digits"
  return 0
  return 0
}

# Prints $1 single-quoted for sh, whatever it contains.
shell_quote() {
  printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

check_node() {
  node_bin=$(command -v node 2>/dev/null) || node_bin=
  case $node_bin in
    /*) ;;
    *)
      die "node is not on PATH ($PATH). The vigo agent is a Node.js program and needs Node.js 20.19 or" \
        "newer: install it system-wide (https://nodejs.org/en/download, NodeSource packages, or your" \
        "distribution's nodejs package if it is new enough), then run this again. Under sudo, PATH is" \
        "reset to secure_path, so a node installed with nvm in a home directory is not found."
      ;;
  esac
  "$node_bin" -e 'const [major, minor] = process.versions.node.split(".").map(Number);
    process.exit(major > 20 || (major === 20 && minor >= 19) ? 0 : 1);' </dev/null ||
    die "$node_bin is Node.js $("$node_bin" --version </dev/null 2>&1 || true); the vigo agent needs" \
      "20.19 or newer: upgrade Node.js (https://nodejs.org/en/download), then run this again"
}

check_system() {
  os=$(uname -s)
  [ "$os" = Linux ] || die "this installer supports Linux only (this system is $os)"
  if [ -z "$prefix" ] && [ "$(id -u)" != 0 ]; then
    die "installing into the system needs root: pipe the script to 'sudo sh -s -- ...'," \
      "or install into a directory of your own with --prefix DIR"
  fi
  check_node
  if command -v curl >/dev/null 2>&1; then
    downloader=curl
  elif command -v wget >/dev/null 2>&1; then
    downloader=wget
  else
    die "neither curl nor wget is installed; install one of them and run this again"
  fi
  command -v sha256sum >/dev/null 2>&1 ||
    die "sha256sum is not installed (it comes with coreutils or busybox); it verifies the download"
  if [ -n "$ca_sha256" ]; then
    command -v base64 >/dev/null 2>&1 ||
      die "base64 is not installed (it comes with coreutils or busybox); it checks the CA fingerprint"
  fi
  if [ -n "$token_file" ]; then
    [ -f "$token_file" ] && [ -r "$token_file" ] ||
      die "cannot read the token file $token_file; put the enrollment token in it first"
    [ -n "$(head -n 1 "$token_file" | tr -d ' \t\r')" ] || die "the token file $token_file is empty"
  fi
}

# fetch URL FILE [--insecure]: only the first download, the CA, may skip verification.
fetch() {
  if [ "$downloader" = curl ]; then
    if [ "${3:-}" = --insecure ]; then
      curl -sSfg --proto '=https' --retry 3 --connect-timeout 20 -k -o "$2" "$1" </dev/null
    else
      curl -sSfg --proto '=https' --retry 3 --connect-timeout 20 --cacert "$ca_file" -o "$2" "$1" </dev/null
    fi
  elif [ "${3:-}" = --insecure ]; then
    wget -q --no-check-certificate -O "$2" "$1" </dev/null
  else
    wget -q --ca-certificate="$ca_file" -O "$2" "$1" </dev/null
  fi || die "cannot download $1 (see the message above); is $vigo_server reachable from this host?"
}

download_agent() {
  base=https://$vigo_server/bootstrap
  say "downloading the CA certificate from $base/ca.crt"
  fetch "$base/ca.crt" "$ca_file" --insecure
  grep -q 'BEGIN CERTIFICATE' "$ca_file" || die "$base/ca.crt is not a PEM certificate"
  if [ -n "$ca_sha256" ]; then
    ca_actual=$(sed '/-----/d' "$ca_file" | base64 -d | sha256sum | cut -d ' ' -f 1)
    [ "$ca_actual" = "$ca_sha256" ] ||
      die "the CA certificate from $base/ca.crt has SHA-256 fingerprint $ca_actual, not the pinned" \
        "$ca_sha256: this is not the expected server, or the connection is intercepted; nothing was installed"
    say "CA certificate matches the pinned fingerprint"
  fi
  say "downloading the agent from $base/vigo.mjs"
  fetch "$base/vigo.mjs.sha256" "$work/vigo.mjs.sha256"
  fetch "$base/vigo.mjs" "$work/vigo.mjs"
  expected=$(head -n 1 "$work/vigo.mjs.sha256" | cut -d ' ' -f 1)
  case $expected in
    *[!0-9a-f]* | '') die "$base/vigo.mjs.sha256 does not hold a SHA-256 checksum" ;;
  esac
  [ "${#expected}" -eq 64 ] || die "$base/vigo.mjs.sha256 does not hold a SHA-256 checksum"
  actual=$(sha256sum "$work/vigo.mjs" | cut -d ' ' -f 1)
  [ "$actual" = "$expected" ] ||
    die "checksum mismatch for $base/vigo.mjs: expected $expected, got $actual. The download is" \
      "damaged or was altered on the way; nothing was installed"
  say "checksum verified (sha256 $actual)"
}

systemd_running() { [ -d /run/systemd/system ]; }

# A prefix install is not the live system, so its service manager is never touched.
stop_existing() {
  [ -z "$prefix" ] || return 0
  systemd_running || return 0
  if systemctl is-active --quiet vigo-envoy.service </dev/null; then
    say "stopping the running vigo-envoy service"
    systemctl stop vigo-envoy.service </dev/null || die "cannot stop vigo-envoy.service"
  fi
  return 0
}

# Each file is written beside its target and renamed over it, so a failure never leaves half a file.
install_agent() {
  lib_dir=$prefix/usr/local/lib/vigo
  bin_dir=$prefix/usr/local/bin
  unit_dir=$prefix/etc/systemd/system
  mkdir -p "$lib_dir" "$bin_dir" "$unit_dir"
  cp "$work/vigo.mjs" "$lib_dir/vigo.mjs.new"
  chmod 0644 "$lib_dir/vigo.mjs.new"
  mv -f "$lib_dir/vigo.mjs.new" "$lib_dir/vigo.mjs"
  # The wrapper names node by its full path: systemd's PATH may not contain the directory it is in.
  {
    printf '#!/bin/sh\n'
    printf '# Installed by vigo-bootstrap from %s: runs the vigo agent on Node.js.\n' "$vigo_server"
    # V8's low-memory mode and a small young generation keep the agent under 60 MB; it runs a few
    # seconds every interval, so optimizing compilers would cost more memory than they save time.
    printf 'exec %s --lite-mode --max-semi-space-size=1 %s "$@"\n' "$(shell_quote "$node_bin")" "$(shell_quote "$lib_dir/vigo.mjs")"
  } >"$bin_dir/vigo.new"
  chmod 0755 "$bin_dir/vigo.new"
  mv -f "$bin_dir/vigo.new" "$bin_dir/vigo"
  write_unit >"$unit_dir/vigo-envoy.service.new"
  chmod 0644 "$unit_dir/vigo-envoy.service.new"
  mv -f "$unit_dir/vigo-envoy.service.new" "$unit_dir/vigo-envoy.service"
  say "installed $bin_dir/vigo, $lib_dir/vigo.mjs and $unit_dir/vigo-envoy.service"
}

write_unit() {
  cat <<'VIGO_UNIT_EOF'
@VIGO_UNIT@
VIGO_UNIT_EOF
}

enroll() {
  state_dir=$prefix/var/lib/vigo
  if [ -n "$token_file" ]; then
    set -- enroll --server "$vigo_server" --token-file "$token_file" --ca "$ca_file" --state-dir "$state_dir"
  else
    set -- enroll --server "$vigo_server" --token "$token" --ca "$ca_file" --state-dir "$state_dir"
  fi
  if [ -n "$enroll_hostname" ]; then set -- "$@" --hostname "$enroll_hostname"; fi
  say "enrolling this host with $vigo_server (state in $state_dir)"
  "$bin_dir/vigo" "$@" </dev/null ||
    die "enrollment failed (see the message above). The agent is installed; fix the cause (an expired" \
      "or used-up token, a hostname the token does not allow) and run this script again"
}

start_service() {
  if [ -n "$prefix" ]; then
    say "done: installed under $prefix; no service was started (--prefix)"
  elif ! systemd_running; then
    say "done: systemd is not running here; start the agent with: /usr/local/bin/vigo daemon"
  else
    systemctl daemon-reload </dev/null || die "systemctl daemon-reload failed"
    if [ "$no_start" = 1 ]; then
      say "done: not started (--no-start); start it with: systemctl enable --now vigo-envoy"
    else
      systemctl enable --now vigo-envoy.service </dev/null ||
        die "cannot start vigo-envoy.service; see: journalctl -u vigo-envoy"
      say "done: vigo-envoy is running; follow it with: journalctl -u vigo-envoy -f"
    fi
  fi
}

main() {
  umask 022
  trap on_exit EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  step='reading the arguments'
  parse_args "$@"
  step='checking this system'
  check_system
  say "installing the vigo agent from vigosrv $vigo_server_version at $vigo_server"
  work=$(mktemp -d "${TMPDIR:-/tmp}/vigo-bootstrap.XXXXXX") || die "cannot create a temporary directory"
  ca_file=$work/ca.crt
  # Download and verify before stopping anything: a failed download leaves a running agent running.
  step='downloading the agent'
  download_agent
  step='stopping the running agent'
  stop_existing
  step='installing the agent'
  install_agent
  step='enrolling'
  enroll
  step='starting the service'
  start_service
}

# Last line on purpose: when the download is cut short, sh has read only definitions and runs nothing.
main "$@"
