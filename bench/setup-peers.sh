#!/usr/bin/env bash
# Installs the peers and the load generators of `pnpm bench:edge` from Debian's own packages, only
# when missing: caddy (2.6), nginx, wrk (4.1.0), h2load (nghttp2-client, for HTTP/2), and gcc + libssl-dev for bench/tls-load.c. Never touches the system's apt sources.
# Debian's packages start a system nginx/caddy on ports 80/443 where an init system lets them:
# the benchmark starts its own instances on free loopback ports, so any system instance this script
# finds running afterwards is stopped (it would hold ports and eat the CPU being measured).
set -euo pipefail
say() { printf 'setup-peers: %s\n' "$*" >&2; }

missing=()
command -v caddy >/dev/null || missing+=(caddy)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
command -v openssl >/dev/null || missing+=(openssl)
command -v redis-server >/dev/null || missing+=(redis-server)
# bench/tls-load.c, the handshake client, is compiled on first use.
command -v gcc >/dev/null || missing+=(gcc)
[ -f /usr/include/openssl/ssl.h ] || missing+=(libssl-dev)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    say "missing ${missing[*]}: install them (e.g. sudo apt-get install ${missing[*]}) and run again"
    exit 1
  fi
  say "installing ${missing[*]} from Debian's packages"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for service in nginx caddy; do
    if [ -e "/etc/init.d/$service" ] || command -v systemctl >/dev/null; then
      # Stop and disable whatever the package started; the benchmark runs its own instances.
      if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
        systemctl disable --now "$service" >/dev/null 2>&1 || true
      elif [ -x "/etc/init.d/$service" ]; then
        "/etc/init.d/$service" stop >/dev/null 2>&1 || true
      fi
    fi
  done
fi

# A system nginx/caddy may run from an earlier install: stop it by its pid file, never by name.
for pidfile in /run/nginx.pid /var/run/nginx.pid; do
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    say "stopping the system nginx (pid $(cat "$pidfile")) so it does not hold ports 80/443"
    kill "$(cat "$pidfile")" || true
  fi
done

nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
say "caddy $(caddy version | cut -d' ' -f1), $("$nginx_bin" -v 2>&1 | sed 's/.*: //'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
