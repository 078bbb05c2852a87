#!/usr/bin/env bash
# Run a command as on a machine without Japanese (CJK) fonts and without Chromium, where `make test` must
# pass too (the tests that need them skip). In a private mount namespace, the font folders that hold
# Japanese fonts and Chromium's files are hidden from this command only; the machine is left as it is.
# Needs root (mount namespaces, tmpfs and overlay mounts).
#
#     scripts/bare_machine.sh make test
set -euo pipefail
if [ "${BARE_MACHINE:-}" != "1" ]; then
  exec unshare --mount --propagation private env BARE_MACHINE=1 "$0" "$@"
fi

hide_folder() { mount -t tmpfs -o size=1m,mode=755 bare-machine "$1"; }

# Japanese fonts: every folder fontconfig finds one in, and the usual file names (bot.rich_menu's list)
fonts=$( (fc-list :lang=ja file 2>/dev/null | sed 's/:[^/]*$//'
          find /usr/share/fonts -type f \( -iname '*CJK*' -o -iname '*JP*' -o -iname '*japan*' \) 2>/dev/null
         ) || true)
for folder in $(printf '%s\n' "$fonts" | grep . | xargs -r -n1 dirname | sort -u); do
  [ -d "$folder" ] && hide_folder "$folder"  # gone already when a parent folder was hidden
done

# Chromium: its program folder, and its launcher (an overlay of the launcher's folder whites it out)
for name in chromium chromium-browser; do
  launcher=$(command -v "$name" || true)
  [ -n "$launcher" ] || continue
  upper=$(mktemp -d)
  mount -t tmpfs bare-machine "$upper"
  mkdir "$upper/files" "$upper/work"
  mknod "$upper/files/$name" c 0 0
  folder=$(dirname "$launcher")
  mount -t overlay bare-machine -o "lowerdir=$folder,upperdir=$upper/files,workdir=$upper/work" "$folder"
done
for folder in /usr/lib/chromium /usr/lib/chromium-browser; do
  [ -d "$folder" ] && hide_folder "$folder"
done

# matplotlib's font list is cached per user: start from an empty cache, as on a fresh machine
MPLCONFIGDIR=$(mktemp -d)
export MPLCONFIGDIR
exec "$@"
