#!/usr/bin/env bash
# The spec's restore.sh FILE: a netplus-db archive, or a (gzipped) plain SQL dump such as
# /path/to/backup.sql.gz. Restores into a scratch database, validates, then swaps it in after
# confirmation (or --yes); the previous database is kept as <db>__old_<UTC time>.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ $# -lt 1 ]; then
  echo "usage: $0 FILE [--yes] [--drop-old]  (see: netplus-db restore --help)" >&2
  exit 2
fi
exec "$here/netplus-db" restore "$@"
