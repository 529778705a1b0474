#!/usr/bin/env bash
# The spec's backup.sh: full | schema | data | list | verify | cleanup, into BACKUP_DIR (default
# ./backups). cleanup keeps the last 7 days (by the time in the archive names) and never deletes
# the newest backup; --keep-last N keeps more. Encrypt with --encrypt and NETPLUS_BACKUP_KEY.
# See docs/backups.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  -h|--help)
    echo "usage: $0 full|schema|data|list|verify|cleanup [options]"
    echo "The spec's script name for 'netplus-db backup'; its help follows."
    echo
    exec "$here/netplus-db" backup --help ;;
  full|schema|data|list|verify|cleanup) command="$1"; shift ;;
  *) echo "usage: $0 full|schema|data|list|verify|cleanup [options]  (see: netplus-db backup --help)" >&2; exit 2 ;;
esac
exec "$here/netplus-db" backup "$command" "$@"
