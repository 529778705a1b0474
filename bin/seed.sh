#!/usr/bin/env bash
# The spec's seed.sh: demo accounts, the Network+ catalog, questions, assessments and
# achievements, idempotently. Extra arguments go to netplus-db seed (e.g. --scale 10, --json).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/netplus-db" seed "$@"
