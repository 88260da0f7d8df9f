# shared by bench/sign.sh and bench/sign-profile.sh (sourced, not run): the inputs of both sign cases.
# sign_inputs WORK DL CN BITS: a key and certificate (WORK/key.pem, WORK/cert.pem, RSA of BITS), then sets
#   small  the cached 6.1 tree's samples/rust/rust_minimal.ko
#   afkey  Debian's af_key.ko from the newest linux-image-6.1.0-*-amd64 (the .deb kept in DL), decompressed and with
#          Debian's signature stripped, so that every tool signs the same unsigned bytes
sign_inputs() {
  local work=$1 dl=$2 cn=$3 bits=$4 pkg deb size siglen
  openssl req -new -nodes -utf8 -sha256 -days 36500 -batch -x509 -newkey "rsa:$bits" -keyout "$work/key.pem" \
    -out "$work/cert.pem" -subj "/CN=$cn/" 2>/dev/null
  chmod 600 "$work/key.pem"
  small=$(./rkmod kernel build --profile 6.1 --json -q | sed -n 's/.*"tree": "\(.*\)".*/\1/p')/samples/rust/rust_minimal.ko
  [ -f "$small" ] || { echo "no $small" >&2; exit 1; }
  mkdir -p "$dl"
  pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
  deb=$(ls "$dl"/"$pkg"_*.deb 2>/dev/null | head -1 || true)
  if [ -z "$deb" ]; then
    (cd "$dl" && apt-get download "$pkg" >/dev/null 2>&1)
    deb=$(ls "$dl"/"$pkg"_*.deb | head -1)
  fi
  dpkg --fsys-tarfile "$deb" | tar -x -C "$work" --wildcards '*/af_key.ko*'
  afkey=$(find "$work" -name 'af_key.ko*' | head -1)
  case "$afkey" in
    *.xz) xz -d "$afkey"; afkey=${afkey%.xz} ;;
    *.zst) zstd -q -d --rm "$afkey"; afkey=${afkey%.zst} ;;
  esac
  # strip Debian's signature: [module][cms][12-byte info, sig_len big-endian at its end]["~Module signature appended~\n"]
  if [ "$(tail -c 28 "$afkey")" = "~Module signature appended~" ]; then
    size=$(stat -c %s "$afkey")
    siglen=$((16#$(tail -c 32 "$afkey" | head -c 4 | od -An -tx1 | tr -d ' \n')))
    truncate -s $((size - 28 - 12 - siglen)) "$afkey"
  fi
}
