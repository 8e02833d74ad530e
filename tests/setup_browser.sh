#!/usr/bin/env bash
# Prepare this machine for tests/test_site.py (the browser checks of the book's site).
#
#   bash tests/setup_browser.sh
#
# Idempotent and quick once done. It
#   1. installs Debian's chromium when /usr/bin/chromium is missing and we are
#      root (Playwright's own browser download is not used: it cannot work
#      offline); otherwise prints a one-line hint;
#   2. checks that the site's offline MathJax (PyPI: django-static-mathjax, in
#      the dev extra) is importable by the Python that runs the tests, and
#      installs it if not.
# Set PYTHON to choose that Python (default: python, else python3).
set -euo pipefail

CHROMIUM="${RLCORE_CHROMIUM:-/usr/bin/chromium}"
PY="${PYTHON:-$(command -v python || command -v python3)}"
MATHJAX_PKG="django-static-mathjax==3.2.2.1"

# -- 1. Chromium ---------------------------------------------------------------
if [ -x "$CHROMIUM" ]; then
    :
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup_browser: installing Debian chromium (apt-get) ..."
    log="$(mktemp)"
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq chromium fonts-liberation fonts-dejavu-core; } \
            >"$log" 2>&1; then
        cat "$log" >&2
        echo "setup_browser: apt-get install chromium failed" >&2
        exit 1
    fi
    rm -f "$log"
    echo "setup_browser: $("$CHROMIUM" --version 2>/dev/null || echo chromium installed)"
else
    echo "setup_browser: no $CHROMIUM; install it with: sudo apt-get install chromium" \
         "(the site tests skip without it, and fail under CI=true)"
fi

# -- 2. Offline MathJax for the site ---------------------------------------------
if ! "$PY" -c "import importlib.resources as r, sys; \
p = r.files('mathjax') / 'static' / 'mathjax' / 'es5' / 'tex-chtml-full.js'; \
sys.exit(0 if p.is_file() else 1)" >/dev/null 2>&1; then
    echo "setup_browser: installing $MATHJAX_PKG into $PY ..."
    "$PY" -m pip install --quiet "$MATHJAX_PKG"
fi
