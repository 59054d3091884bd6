#!/usr/bin/env bash
# Debian packages the tests and the viewer need beyond Python wheels:
# poppler-utils (pdftoppm, to look at printouts), Xvfb (a real X11 window in tests),
# and the shared libraries Qt's xcb (X11) and offscreen plugins load.
set -u
need=()
command -v pdftoppm >/dev/null || need+=(poppler-utils)
command -v Xvfb >/dev/null || need+=(xvfb)
for lib in libEGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libGL.so.1 libxcb-cursor.so.0 libxkbcommon-x11.so.0 libdbus-1.so.3 \
           libxcb-icccm.so.4 libxcb-keysyms.so.1 libxcb-image.so.0 libxcb-render-util.so.0 libxcb-shape.so.0 \
           libxcb-randr.so.0 libxcb-xinerama.so.0 libxcb-xkb.so.1; do
  ldconfig -p | grep -q "$lib" || case $lib in
    libEGL.so.1) need+=(libegl1);; libxkbcommon.so.0) need+=(libxkbcommon0);;
    libfontconfig.so.1) need+=(libfontconfig1);; libGL.so.1) need+=(libgl1);;
    libxcb-cursor.so.0) need+=(libxcb-cursor0);; libxkbcommon-x11.so.0) need+=(libxkbcommon-x11-0);;
    libdbus-1.so.3) need+=(libdbus-1-3);;
    libxcb-icccm.so.4) need+=(libxcb-icccm4);; libxcb-keysyms.so.1) need+=(libxcb-keysyms1);;
    libxcb-image.so.0) need+=(libxcb-image0);; libxcb-render-util.so.0) need+=(libxcb-render-util0);;
    libxcb-shape.so.0) need+=(libxcb-shape0);; libxcb-randr.so.0) need+=(libxcb-randr0);;
    libxcb-xinerama.so.0) need+=(libxcb-xinerama0);; libxcb-xkb.so.1) need+=(libxcb-xkb1);;
  esac
done
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${need[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null 2>&1 \
    || echo "warning: could not install ${need[*]}; tests needing them will skip" >&2
else
  echo "warning: missing system packages (${need[*]}); install them with apt-get; tests needing them will skip" >&2
fi
exit 0
