#!/bin/sh
# System packages sesreport needs, installed when missing (Debian/Ubuntu):
#   libpango-1.0-0 libpangoft2-1.0-0  WeasyPrint's text layout
#   libharfbuzz-subset0               fast font subsetting in WeasyPrint (0.4-1 s per PDF without it)
#   poppler-utils                     pdftotext/pdftoppm, used by the tests and to look at pages
#   fonts-noto-core fonts-symbola     fallback fonts for Georgian, Armenian, Hebrew and emoji (sesreport/fonts.py)
#   chromium                          the browser the HTML tests drive with Playwright (tests/test_browser.py)
# The exact line, if you prefer to run it yourself:
#   sudo apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 poppler-utils fonts-noto-core fonts-symbola chromium
set -e
missing=""
have_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
have_lib libpango-1.0.so.0 || missing="$missing libpango-1.0-0"
have_lib libpangoft2-1.0.so.0 || missing="$missing libpangoft2-1.0-0"
have_lib libharfbuzz-subset.so.0 || missing="$missing libharfbuzz-subset0"
command -v pdftotext >/dev/null 2>&1 || missing="$missing poppler-utils"
[ -f /usr/share/fonts/truetype/noto/NotoSansGeorgian-Regular.ttf ] || missing="$missing fonts-noto-core"
[ -f /usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf ] || missing="$missing fonts-symbola"
[ -x /usr/bin/chromium ] || missing="$missing chromium"
[ -z "$missing" ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
    if [ "$SUDO" != none ]; then
        echo "Installing system packages:$missing"
        $SUDO apt-get install -y -q $missing >/dev/null 2>&1 || {
            $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q $missing >/dev/null; }
        exit 0
    fi
fi
echo "Missing system packages:$missing"
echo "Install them with: sudo apt-get install -y$missing"
case "$missing" in *libpango*|*poppler*) exit 1;; esac
exit 0
