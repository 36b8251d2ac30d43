#!/usr/bin/env bash
# Checks README's two commands on a clean Debian 12 root, as a new user would
# run them: builds a minimal bookworm root with mmdebstrap, clones the
# project's committed HEAD into it and runs the commands of README's first
# ```sh block under chroot. Prints how long each step took; exits non-zero if
# a step fails (each step's output is in WORKDIR/logs; the end of it is
# shown). Run as root on a Debian 12 host with network access (about 1 GB of
# downloads). Not part of CI.
#
#   scripts/check-fresh.sh [WORKDIR]    (default: a new directory in /var/tmp)
#   KEEP=1 scripts/check-fresh.sh       keep WORKDIR afterwards
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "$(id -u)" -ne 0 ]; then
  echo "check-fresh: run as root (mmdebstrap, mount, chroot)" >&2
  exit 1
fi
WORK="${1:-$(mktemp -d /var/tmp/bitserial-fresh.XXXXXX)}"
CHROOT="$WORK/root"
HEAD="$(git -C "$ROOT" rev-parse HEAD)"
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no)" ]; then
  echo "check-fresh: note: uncommitted changes are not checked (HEAD $HEAD)"
fi

cleanup() {
  local status=$? dir
  for dir in dev sys proc; do
    if mountpoint -q "$CHROOT/$dir" 2>/dev/null; then
      umount -R "$CHROOT/$dir" 2>/dev/null || umount -lR "$CHROOT/$dir" || true
    fi
  done
  if grep -q " $CHROOT/" /proc/mounts; then
    echo "check-fresh: mounts left under $CHROOT; not removing it"
    exit 1
  fi
  if [ -z "${KEEP:-}" ]; then
    rm -rf "$CHROOT" "$WORK/root.tar"
    if [ "$status" -eq 0 ]; then rm -rf "$WORK/logs"; fi
    rmdir "$WORK" 2>/dev/null || echo "check-fresh: logs in $WORK/logs"
  else
    echo "check-fresh: kept $WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

TIMES=()
mkdir -p "$WORK/logs"
step() {
  local name="$1" start status log
  shift
  log="$WORK/logs/$(printf '%02d' "${#TIMES[@]}").log"
  echo "check-fresh: $name ..."
  start=$(date +%s)
  set +e
  ( set -e; "$@" ) > "$log" 2>&1
  status=$?
  set -e
  TIMES+=("$(printf '%5d s  %s' $(( $(date +%s) - start )) "$name")")
  tail -n "${TAIL_LINES:-12}" "$log" | sed 's/^/  | /'
  echo "check-fresh: $name: $(( $(date +%s) - start )) s"
  if [ "$status" -ne 0 ]; then
    echo "check-fresh: FAILED: $name (exit $status; log: $log)"
    printf '  %s\n' "${TIMES[@]}"
    exit "$status"
  fi
}

install_mmdebstrap() {
  if ! command -v mmdebstrap >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap
  fi
}

make_root() {
  mkdir -p "$CHROOT"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates,git bookworm \
    "$WORK/root.tar" /etc/apt/sources.list.d/debian.sources
  tar -C "$CHROOT" -xf "$WORK/root.tar"
  rm -f "$WORK/root.tar"
  # The machine's apt sources (instead of the copy mmdebstrap wrote) and
  # settings (mirror, proxy), and its resolver.
  rm -f "$CHROOT"/etc/apt/sources.list.d/*.sources "$CHROOT"/etc/apt/sources.list
  cp /etc/apt/sources.list.d/debian.sources "$CHROOT/etc/apt/sources.list.d/"
  cp /etc/apt/apt.conf.d/99* "$CHROOT/etc/apt/apt.conf.d/" 2>/dev/null || true
  cp /etc/resolv.conf "$CHROOT/etc/resolv.conf" 2>/dev/null || true
}

mount_all() {
  mount -t proc proc "$CHROOT/proc"
  mount --rbind /sys "$CHROOT/sys"
  mount --make-rslave "$CHROOT/sys"
  mount --rbind /dev "$CHROOT/dev"
  mount --make-rslave "$CHROOT/dev"
}

clone_project() {
  git clone --quiet --no-hardlinks "$ROOT" "$CHROOT/root/bitserial"
  git -C "$CHROOT/root/bitserial" checkout --quiet --detach "$HEAD"
}

# The commands of README's first ```sh block (comments dropped).
readme_commands() {
  awk '/^```sh/ { inside = 1; next } /^```/ { if (inside) exit } inside' \
    "$CHROOT/root/bitserial/README.md" | sed -e 's/[[:space:]]*#.*$//' -e '/^[[:space:]]*$/d'
}

in_root() {
  chroot "$CHROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "cd /root/bitserial && $1"
}

step "install mmdebstrap on the host" install_mmdebstrap
step "mmdebstrap a bookworm minbase root" make_root
step "mount proc, sys, dev" mount_all
step "clone HEAD ${HEAD:0:12}" clone_project
mapfile -t COMMANDS < <(readme_commands)
if [ "${#COMMANDS[@]}" -eq 0 ]; then
  echo "check-fresh: no commands found in README's first sh block"
  exit 1
fi
for command in "${COMMANDS[@]}"; do
  step "README: $command" in_root "$command"
done

echo "check-fresh: all steps passed"
printf '  %s\n' "${TIMES[@]}"
