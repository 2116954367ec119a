#!/usr/bin/env bash
# Refresh the vendored front-end libraries from the npm registry, unmodified.
# Usage: scripts/vendor-js.sh [HTMX_RANGE] [SORTABLE_RANGE]
set -euo pipefail

htmx_range="${1:-2.0}"
sortable_range="${2:-1.15}"
dest="$(cd "$(dirname "$0")/.." && pwd)/webapp/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() {  # package range dist-file target-name
  local package="$1" range="$2" dist_file="$3" target="$4"
  (cd "$work" && npm pack --silent "${package}@~${range}" >/dev/null)
  local tarball
  tarball="$(ls "$work"/*.tgz)"
  tar -xzf "$tarball" -C "$work"
  local version
  version="$(node -p "require('$work/package/package.json').version")"
  cp "$work/package/$dist_file" "$dest/$target"
  cp "$work/package/LICENSE" "$dest/${target%%.*}.LICENSE.txt"
  echo "${package} ${version}" > "$dest/${target%%.*}.VERSION.txt"
  echo "vendored ${package} ${version} -> ${target}"
  rm -rf "$work/package" "$tarball"
}

mkdir -p "$dest"
fetch htmx.org "$htmx_range" dist/htmx.min.js htmx.min.js
fetch sortablejs "$sortable_range" Sortable.min.js Sortable.min.js
