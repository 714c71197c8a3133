#!/bin/sh
# images.sh — code images sent once and cached by SHA-256 (docs/remoting.md
# "Modules, libraries, linking"): remote_images loads PTX modules twice per
# session against rgpud sessions sharing one image cache directory, and the
# shim's own count (RGPU_LOG=info: "code images: N part(s) sent ...") and the
# cache's files are checked against sha256sum of the images:
#   0. --image-cache off: each image still sent once per session, in every session;
#   1. a cold cache: each image sent once per session (the second load by hash),
#      and filed under its SHA-256 with exactly its bytes;
#   2. a new session: nothing sent;
#   3. a corrupted cache file is not used: the image is sent again, the file
#      replaced by the right bytes;
#   4. --image-cache-mb 1 with three 400 KB images: the least recently used
#      files go, the newest stay;
#   5. with a tenants file, each tenant has its own cache: what one sent, the
#      other sends again.
# usage: images.sh WITH_RGPUD RGPUD SHIM_DIR REMOTE_IMAGES
set -u
with=$1 rgpud=$2 shimdir=$3 prog=$4
command -v sha256sum >/dev/null || { echo "SKIP: no sha256sum"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/rgpu-images.XXXXXX")
trap 'rm -rf "$dir"' EXIT
cache=$dir/cache
fail() { echo "FAIL: $*"; exit 1; }

# session ARGS...: one remote_images run; its output in $dir/out
session() {
    RGPUD_ARGS="--image-cache $cache $extra" RGPU_LOG=info \
        "$with" "$rgpud" "$shimdir" -- "$prog" "$dir" "$@" >"$dir/out" 2>&1 ||
        { cat "$dir/out"; fail "remote_images $*"; }
}
counted() { grep -q "code images: $1" "$dir/out" || { cat "$dir/out"; fail "expected: code images: $1"; }; }
# sum K: the SHA-256 of image K as it travels (the PTX text and its NUL)
sum() { { cat "$dir/ptx-$1.ptx"; printf '\0'; } | sha256sum | cut -d' ' -f1; }
filed() { # K: the cache holds image K, byte for byte
    f=$cache/anonymous/$(sum "$1")
    [ -f "$f" ] || fail "image $1 is not in the cache as $f"
    { cat "$dir/ptx-$1.ptx"; printf '\0'; } | cmp -s - "$f" || fail "$f does not hold image $1"
}

# no disk cache: still once per session, and nothing is kept across sessions
for i in 1 2; do
    RGPUD_ARGS="--image-cache off" RGPU_LOG=info "$with" "$rgpud" "$shimdir" -- \
        "$prog" "$dir" 65536 1 2 >"$dir/out" 2>&1 || { cat "$dir/out"; fail "remote_images (off)"; }
    counted "2 part(s) sent (131074 bytes), 2 by hash only (131074 bytes not sent)"
done
[ -e "$cache" ] && fail "--image-cache off wrote $cache"
echo "ok: --image-cache off: each image sent once per session, every session"

extra=""
session 65536 1 2
counted "2 part(s) sent (131074 bytes), 2 by hash only (131074 bytes not sent)"
filed 1
filed 2
echo "ok: cold cache: each image sent once per session, filed by its SHA-256"

session 65536 1 2
counted "0 part(s) sent (0 bytes), 4 by hash only"
echo "ok: a new session sends nothing"

f=$cache/anonymous/$(sum 1)
printf 'X' | dd of="$f" bs=1 seek=1000 conv=notrunc 2>/dev/null
cmp -s "$f" "$dir/ptx-1.ptx" && fail "the cache file was not changed"
session 65536 1 2
counted "1 part(s) sent (65537 bytes), 3 by hash only"
filed 1
echo "ok: a corrupted cache file is not used, and is replaced"

extra="--image-cache-mb 1"
session 409600 3 4 5
for k in 1 2 3; do
    [ -e "$cache/anonymous/$(sum "$k")" ] && fail "image $k was not evicted"
done
filed 4
filed 5
echo "ok: --image-cache-mb 1 evicts the least recently used images"

rgpuctl=$(dirname "$rgpud")/rgpuctl
[ -x "$rgpuctl" ] || { echo "SKIP (step 5): no rgpuctl"; exit 0; }
for t in alice bob; do
    printf '%s %s\n' "$t" "$(echo "secret-$t" | "$rgpuctl" hash-secret)" >>"$dir/tenants"
done
extra="--tenants $dir/tenants"
RGPU_TOKEN=alice:secret-alice session 65536 6
counted "1 part(s) sent (65537 bytes)"
RGPU_TOKEN=alice:secret-alice session 65536 6
counted "0 part(s) sent (0 bytes)"
RGPU_TOKEN=bob:secret-bob session 65536 6
counted "1 part(s) sent (65537 bytes)"
[ -f "$cache/alice/$(sum 6)" ] && [ -f "$cache/bob/$(sum 6)" ] || fail "not filed per tenant"
[ -e "$cache/anonymous/$(sum 6)" ] && fail "a tenant's image is in the anonymous cache"
echo "ok: each tenant has its own image cache"
