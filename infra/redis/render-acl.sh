#!/bin/sh
# Renders users.acl.template for one key prefix: render-acl.sh [PREFIX] > users.acl
# Passwords come from the environment, one per role, and only their SHA-256 goes in the file:
#   CERTFLEET_REDIS_PASSWORD_EDGE, _ISSUER, _RENEWER, _DASHBOARD, _ADMIN
# Each role then connects with REDIS_URL=redis://certfleet-ROLE:PASSWORD@host:6379.
set -eu
prefix=${1:-certfleet}
case $prefix in
  *[!A-Za-z0-9._-]*|'') echo "render-acl.sh: the prefix may hold only letters, digits, '.', '_', '-': got '$prefix'" >&2; exit 2 ;;
esac
here=$(dirname "$0")
hash() {
  eval "value=\${CERTFLEET_REDIS_PASSWORD_$1:-}"
  if [ -z "$value" ]; then
    echo "render-acl.sh: set CERTFLEET_REDIS_PASSWORD_$1 (the $1 user's Redis password)" >&2
    exit 2
  fi
  printf '#%s' "$(printf '%s' "$value" | sha256sum | cut -d' ' -f1)"
}
edge=$(hash EDGE); issuer=$(hash ISSUER); renewer=$(hash RENEWER); dashboard=$(hash DASHBOARD); admin=$(hash ADMIN)
sed -e "s/@PREFIX@/$prefix/g" -e "s/@HASH_EDGE@/$edge/" -e "s/@HASH_ISSUER@/$issuer/" -e "s/@HASH_RENEWER@/$renewer/" \
  -e "s/@HASH_DASHBOARD@/$dashboard/" -e "s/@HASH_ADMIN@/$admin/" "$here/users.acl.template" | grep -v '^#' | grep -v '^$'
