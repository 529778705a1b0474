#!/usr/bin/env bash
# The spec's backup.sh: full | schema | data | cleanup, into BACKUP_DIR (default ./backups).
# cleanup keeps the last 7 days and never deletes the newest backup.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  full|schema|data|cleanup) command="$1"; shift ;;
  *) echo "usage: $0 full|schema|data|cleanup [options]  (see: netplus-db backup --help)" >&2; exit 2 ;;
esac
exec "$here/netplus-db" backup "$command" "$@"
