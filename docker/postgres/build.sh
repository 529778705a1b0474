#!/usr/bin/env bash
# Build a PostgreSQL 15 image from Debian's packages, with an entrypoint that honours the
# official postgres image's POSTGRES_* variables (entrypoint.sh), for machines whose Docker
# engine reaches no public image registry. Needs root, debootstrap and a Docker engine.
#
#   docker/postgres/build.sh            prints the image's tag, building it only when missing
#
# The tag holds a hash of this folder, so an edited recipe builds a new image and an
# unchanged one is reused. Debian's mirror is the one apt on this machine uses.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
hash="$(cat "$here"/build.sh "$here"/entrypoint.sh | sha256sum | cut -c1-12)"
tag="netplus/postgres-debian:15-$hash"

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag"
  exit 0
fi

mirror="$(
  { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources || true;
    grep -hs '^deb ' /etc/apt/sources.list || true; } |
    awk '{print $2}' | grep -v -- '-security' | head -n1 || true
)"
if [ -z "$mirror" ]; then
  echo "error: no Debian mirror found in /etc/apt/sources.list(.d)" >&2
  exit 1
fi

root="$(mktemp -d /tmp/netplus-image.XXXXXX)"
trap 'rm -rf "$root"' EXIT
echo "building $tag from $mirror (debootstrap, about a minute)" >&2
debootstrap --variant=minbase --include=postgresql-15 bookworm "$root" "$mirror" >&2
# The package made a cluster and config of its own; the entrypoint makes the one it serves.
rm -rf "$root"/var/lib/postgresql/15 "$root"/etc/postgresql/15 "$root"/var/cache/apt/archives/*.deb
install -m 0755 "$here/entrypoint.sh" "$root/usr/local/bin/docker-entrypoint.sh"
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'EXPOSE 5432' \
  -c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  - "$tag" >&2
echo "$tag"
