#!/usr/bin/env bash
# The spec's restore.sh FILE: a netplus-db archive (custom or directory format, encrypted or not),
# or a (gzipped) plain SQL dump such as /path/to/backup.sql.gz. Restores into a scratch database,
# validates, shows the sessions it will end and asks (or --yes), then swaps it in in one
# transaction; the previous database is kept as <db>__old_<UTC time>.
# `restore.sh list` and `restore.sh cleanup` show and remove what restores left. See docs/backups.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -lt 1 ]; then
  echo "usage: $0 FILE [--yes] [--drop-old] [--backup] [--jobs N] | list | cleanup  (see: netplus-db restore --help)" >&2
  exit 2
fi
exec "$here/netplus-db" restore "$@"
