# Shared by scripts/run and scripts/test: the virtualenv and the Debian packages.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PYTHON_BIN=${PYTHON_BIN:-python3}

# What the panel needs to build its Python dependencies (mysqlclient).
RUN_PACKAGES="python3-venv python3-dev gcc pkg-config libmariadb-dev"
# What the test suite talks to: the real Postfix, Dovecot and databases, and Chromium.
TEST_PACKAGES="$RUN_PACKAGES postgresql mariadb-server mariadb-client sqlite3
  postfix postfix-pgsql postfix-mysql postfix-sqlite
  dovecot-core dovecot-imapd dovecot-lmtpd dovecot-pgsql dovecot-mysql dovecot-sqlite
  dovecot-sieve dovecot-managesieved
  chromium fonts-dejavu-core gettext openssl"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
  local missing=()
  for pkg in $*; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing Debian packages: ${missing[*]}"
  # Postfix asks how to configure itself; it gets a minimal local set-up that the tests replace.
  echo "postfix postfix/main_mailer_type select Local only" | as_root debconf-set-selections
  echo "postfix postfix/mailname string localhost" | as_root debconf-set-selections
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON_BIN" -m venv "$VENV"
  fi
  local stamp="$VENV/.installed-$1"
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e "$ROOT$2"
    touch "$stamp"
  fi
}

# axe-core from the npm registry, for the accessibility scans of tests/browser/test_pages.py
# (injected into Chromium by Playwright). Pinned: a new rule set must not fail a build by itself.
AXE_VERSION=4.10.3
AXE_DIR="$ROOT/var/node"
ensure_axe() {
  [ -f "$AXE_DIR/node_modules/axe-core/axe.min.js" ] \
    && grep -q "\"version\": \"$AXE_VERSION\"" "$AXE_DIR/node_modules/axe-core/package.json" && return 0
  command -v npm >/dev/null || ensure_packages "nodejs npm"
  echo "Installing axe-core $AXE_VERSION from the npm registry"
  mkdir -p "$AXE_DIR"
  npm install --silent --no-audit --no-fund --no-save --prefix "$AXE_DIR" "axe-core@$AXE_VERSION"
}
