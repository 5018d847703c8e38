#!/usr/bin/env bash
# PostfixAdmin's own web UI on the rows of a seeded benchmark database, for bench.pfa_panel.
#
#   bench/pfa_ui.sh mailadmin_bench_1k [PORT]    (then: kill the printed pid when done)
#
# Needs Debian's postfixadmin (3.3) with php8.2-cli, php8.2-pgsql and php8.2-mbstring
# (apt-get install postfixadmin php8.2-cli php8.2-pgsql php8.2-mbstring): a benchmark
# dependency only. The package's dbconfig-common may set up a MySQL database of its own when
# installed; this script uses none of it.
#
# What it does: copies /usr/share/postfixadmin (symlinks resolved) to a folder of its own
# under var/bench/<db>/pfa-ui, whose config.local.php and dbconfig.inc.php point at a
# PostgreSQL database <db>_pfa owned by a login role of its own; lets PostfixAdmin's
# upgrade.php create its full schema there; copies the seeded rows of <db>'s schema
# postfixadmin (bench/postfixadmin.py) into it; creates the superadmin admin@pfa.example
# (md5crypt, PostfixAdmin 3.3's default) and serves the UI with `php -S 127.0.0.1:PORT`.
# The password is written to <dir>/admin-password (mode 0600).
set -euo pipefail
DB=${1:?usage: bench/pfa_ui.sh SEEDED_DB [PORT]}
PORT=${2:-8200}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ADMIN_URL=${MAILADMIN_BENCH_PGSQL_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
HOST=127.0.0.1
PFA_DB="${DB}_pfa"
ROLE="${DB}_pfa"
DIR="${MAILADMIN_BENCH_OUT:-$ROOT/var/bench}/$DB/pfa-ui"
[[ $DB =~ ^[a-z_][a-z0-9_]{0,50}$ ]] || { echo "bad database name $DB" >&2; exit 2; }
[ -d /usr/share/postfixadmin/public ] || { echo "postfixadmin is not installed" >&2; exit 2; }

rm -rf "$DIR"
mkdir -p "$DIR"
cp -rL /usr/share/postfixadmin/. "$DIR/app" 2>/dev/null || true
rm -rf "$DIR/app/templates_c" && mkdir -m 0700 "$DIR/app/templates_c"
PW=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
umask 077
printf '%s\n' "$PW" >"$DIR/admin-password"

psql "$ADMIN_URL" -q -v ON_ERROR_STOP=1 <<SQL
DROP DATABASE IF EXISTS $PFA_DB;
DROP ROLE IF EXISTS $ROLE;
CREATE ROLE $ROLE LOGIN PASSWORD '$PW';
CREATE DATABASE $PFA_DB OWNER $ROLE;
SQL
psql "${ADMIN_URL%/*}/$PFA_DB" -qc "ALTER SCHEMA public OWNER TO $ROLE"

cat >"$DIR/app/dbconfig.inc.php" <<EOF
<?php
\$dbuser='$ROLE';
\$dbpass='$PW';
\$basepath='';
\$dbname='$PFA_DB';
\$dbserver='$HOST';
\$dbport='5432';
\$dbtype='pgsql';
EOF
cat >"$DIR/app/config.local.php" <<'EOF'
<?php
$CONF['configured'] = true;
$CONF['database_type'] = 'pgsql';
$CONF['database_host'] = $dbserver;
$CONF['database_port'] = $dbport;
$CONF['database_user'] = $dbuser;
$CONF['database_password'] = $dbpass;
$CONF['database_name'] = $dbname;
$CONF['encrypt'] = 'md5crypt';
$CONF['default_language'] = 'en';
$CONF['page_size'] = '50';
$CONF['quota'] = 'YES';
$CONF['domain_quota'] = 'YES';
EOF
(cd "$DIR/app" && php public/upgrade.php >"$DIR/upgrade.log" 2>&1)

SRC="${ADMIN_URL%/*}/$DB"
DST="postgresql://$ROLE:$PW@$HOST:5432/$PFA_DB"
copy() {
  psql "$SRC" -qc "COPY (SELECT $2 FROM postfixadmin.$1) TO STDOUT" |
    psql "$DST" -qc "COPY $1 ($2) FROM STDIN"
}
copy domain "domain,description,aliases,mailboxes,maxquota,quota,transport,backupmx,created,modified,active"
copy mailbox "username,password,name,maildir,quota,local_part,domain,created,modified,active"
copy alias "address,goto,domain,created,modified,active"
copy alias_domain "alias_domain,target_domain,created,modified,active"
HASH=$(openssl passwd -1 "$PW")
psql "$DST" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO admin (username, password, superadmin, active) VALUES ('admin@pfa.example', '$HASH', true, true);
INSERT INTO domain (domain, description, transport, active) VALUES ('ALL', '', '', true) ON CONFLICT DO NOTHING;
INSERT INTO domain_admins (username, domain, active) VALUES ('admin@pfa.example', 'ALL', true);
ANALYZE domain; ANALYZE mailbox; ANALYZE alias; ANALYZE alias_domain;
SQL

cd "$DIR/app"
setsid php -S "$HOST:$PORT" -t "$DIR/app/public" >"$DIR/php.log" 2>&1 &
echo "PostfixAdmin on http://$HOST:$PORT as admin@pfa.example (password in $DIR/admin-password), pid $!"
