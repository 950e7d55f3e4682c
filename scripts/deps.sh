# Sourced by scripts/*.sh: install the Debian packages skillrl needs, once.
# Not a build step.
SKL_APT_PACKAGES="meson ninja-build pkg-config gcc libopenblas-dev libyaml-dev libzstd-dev
  libjansson-dev libpcre2-dev libutf8proc-dev libopenmpi-dev openmpi-bin
  python3 python3-torch python3-numpy python3-scipy python3-jinja2 gnuplot-nox fonts-dejavu-core zstd nodejs npm"

skl_install_deps() {
  local missing=()
  for p in $SKL_APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  # node/npm may come from outside Debian on some images: accept any working npm.
  if command -v npm >/dev/null && command -v node >/dev/null; then
    local keep=()
    for p in "${missing[@]}"; do [ "$p" = nodejs ] || [ "$p" = npm ] || keep+=("$p"); done
    missing=("${keep[@]+"${keep[@]}"}")
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
