#!/usr/bin/env bash
# Builds the .deb from a configured build tree, installs it, runs both
# programs' --version from the installed location, and removes it again.
# As root (CI) it really installs with dpkg; otherwise it unpacks the package
# into a temporary folder (dpkg-deb -x) and runs the programs from there.
set -euo pipefail
build_dir=${1:?usage: test-deb.sh BUILD_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$build_dir" && cpack -G DEB -B "$work" >/dev/null)
deb=$(ls "$work"/tierconsole_*.deb)
echo "package: $(basename "$deb")"
dpkg-deb -c "$deb" | awk '{print $6}' | grep -E 'bin/tier(console|ctl)$|applications/tierconsole.desktop$|tierconsole.svg$|metainfo.xml$' | sort

if [[ $(id -u) -eq 0 ]]; then
  dpkg -i "$deb" >/dev/null
  trap 'dpkg -r tierconsole >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
  root=""
else
  dpkg-deb -x "$deb" "$work/root"
  root="$work/root"
fi
"$root/usr/bin/tierctl" --version
env -u DISPLAY -u WAYLAND_DISPLAY "$root/usr/bin/tierconsole" --version
# The desktop file must name the installed program and icon.
grep -q '^Exec=tierconsole' "$root/usr/share/applications/tierconsole.desktop"
grep -q '^Icon=tierconsole' "$root/usr/share/applications/tierconsole.desktop"
echo "1 passed, 0 failed"
