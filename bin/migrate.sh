#!/usr/bin/env bash
# The spec's migrate.sh: up | down | reset, with DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD
# (or DATABASE_URL). `down` really rolls back one migration (the spec's only printed how);
# `reset` asks for confirmation, or pass --yes. Extra arguments go to netplus-db migrate.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  -h|--help)
    echo "usage: $0 up|down|reset|status|validate|history|lint|baseline [options]"
    echo "The spec's script name for 'netplus-db migrate'; its help follows."
    echo
    exec "$here/netplus-db" migrate --help ;;
  up|down|reset|status|validate|history|lint|baseline) command="$1"; shift ;;
  *) echo "usage: $0 up|down|reset|status|validate|history|lint|baseline [options]  (see: netplus-db migrate --help)" >&2; exit 2 ;;
esac
exec "$here/netplus-db" migrate "$command" "$@"
