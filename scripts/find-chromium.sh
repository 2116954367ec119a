#!/usr/bin/env bash
# Print the path of a Chromium for the browser tests, installing one if needed.
# Order: $CHROMIUM_PATH, Debian's /usr/bin/chromium, Debian's package via apt (when root),
# else Playwright's own browser (prints nothing; the tests then launch Playwright's bundled one).
set -euo pipefail

if [[ -n "${CHROMIUM_PATH:-}" && -x "${CHROMIUM_PATH}" ]]; then
  echo "$CHROMIUM_PATH"; exit 0
fi
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [[ -x "$candidate" ]]; then echo "$candidate"; exit 0; fi
done
if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" == "0" ]]; then
  echo "Installing Debian's chromium for the browser tests…" >&2
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2 \
     || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2; }; then
    echo /usr/bin/chromium; exit 0
  fi
fi
venv_python="$(dirname "$0")/../.venv/bin/python"
echo "No system Chromium; installing Playwright's own browser…" >&2
"$venv_python" -m playwright install chromium >&2 || {
  echo "No Chromium could be found or installed; set CHROMIUM_PATH." >&2; exit 1; }
