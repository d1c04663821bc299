#!/usr/bin/env sh
# Install (or remove) the Linux desktop build for the current user: no root, nothing outside PREFIX.
#
#   packaging/linux/install.sh [BUNDLE_DIR]     # default BUNDLE_DIR: packaging/dist/kling-preview
#   packaging/linux/install.sh --uninstall
#
# PREFIX defaults to ~/.local: the bundle goes to $PREFIX/lib/kling-preview, a link to $PREFIX/bin, the menu
# entry, icon and the .klproj file type to $PREFIX/share (the XDG data folder).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-$HOME/.local}
DATA=${XDG_DATA_HOME:-$PREFIX/share}
[ "$PREFIX" = "$HOME/.local" ] || DATA=$PREFIX/share
APP=kling-preview
LIB=$PREFIX/lib/$APP

refresh() {
    # Best effort: these tools are missing on minimal systems, and the files work without them after a re-login.
    command -v update-mime-database >/dev/null 2>&1 && update-mime-database "$DATA/mime" >/dev/null 2>&1 || true
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$DATA/applications" >/dev/null 2>&1 || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" >/dev/null 2>&1 || true
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$LIB"
    rm -f "$PREFIX/bin/$APP" "$DATA/applications/$APP.desktop" "$DATA/icons/hicolor/512x512/apps/$APP.png" \
        "$DATA/mime/packages/$APP.xml"
    refresh
    echo "removed Kling Preview from $PREFIX"
    exit 0
fi

BUNDLE=${1:-$HERE/../dist/$APP}
if [ ! -x "$BUNDLE/$APP" ]; then
    echo "error: $BUNDLE/$APP not found; build it first: python packaging/build.py" >&2
    exit 2
fi
BUNDLE=$(cd "$BUNDLE" && pwd)

mkdir -p "$PREFIX/lib" "$PREFIX/bin" "$DATA/applications" "$DATA/icons/hicolor/512x512/apps" "$DATA/mime/packages"
rm -rf "$LIB.new"
cp -R "$BUNDLE" "$LIB.new"
rm -rf "$LIB"
mv "$LIB.new" "$LIB"
ln -sf "$LIB/$APP" "$PREFIX/bin/$APP"

# The menu entry names the installed program by its full path, so it works even when ~/.local/bin is not on PATH.
sed -e "s|^Exec=$APP |Exec=\"$LIB/$APP\" |" -e "s|^TryExec=.*|TryExec=$LIB/$APP|" \
    "$HERE/$APP.desktop" >"$DATA/applications/$APP.desktop"
cp "$LIB/_internal/assets/icon.png" "$DATA/icons/hicolor/512x512/apps/$APP.png"
cp "$HERE/$APP-mime.xml" "$DATA/mime/packages/$APP.xml"
refresh

echo "installed Kling Preview $("$LIB/$APP" --version 2>/dev/null | sed 's/^kling-preview //') in $LIB"
case ":$PATH:" in
    *":$PREFIX/bin:"*) ;;
    *) echo "note: $PREFIX/bin is not on your PATH; the menu entry works, or run $LIB/$APP" ;;
esac
