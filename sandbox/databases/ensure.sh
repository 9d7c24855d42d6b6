#!/usr/bin/env bash
# Makes sure the local PostgreSQL and MariaDB answer on 127.0.0.1 (installing them from Debian's
# packages where missing), and that PostgreSQL asks members of the role rotator_password_auth for
# their password: the machine's pg_hba.conf trusts every local login, and a rotation can only be
# proven (new password accepted, old one refused) against a server that checks passwords.
# Used by .ci/run and by `npm run demo`'s instructions; safe to run again.
set -euo pipefail

PG_GROUP=rotator_password_auth
apt_updated=no
install() {
  [ "$apt_updated" = yes ] || { apt-get update -qq; apt_updated=yes; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
maria_up() {
  if command -v mariadb-admin >/dev/null 2>&1; then
    mariadb-admin --protocol=tcp -h 127.0.0.1 -P 3306 -u root ping >/dev/null 2>&1
  else
    # No client: the server greets first, so an open port that answers is enough here.
    (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null
  fi
}

# ---------------------------------------------------------------- PostgreSQL
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "databases: installing PostgreSQL"
  install postgresql postgresql-client
fi
version="$(ls /etc/postgresql | sort -V | tail -1)"
hba="/etc/postgresql/$version/main/pg_hba.conf"
if ! pg_up; then
  echo "databases: starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 50); do pg_up && break; sleep 0.2; done
  pg_up || { echo "databases: PostgreSQL did not start"; exit 1; }
fi
if ! grep -q "+$PG_GROUP" "$hba"; then
  echo "databases: PostgreSQL asks members of $PG_GROUP for a password (scram-sha-256)"
  tmp="$(mktemp)"
  {
    echo "# credential-rotator: logins it rotates must prove their password (sandbox/databases/ensure.sh)"
    echo "host all +$PG_GROUP 127.0.0.1/32 scram-sha-256"
    echo "host all +$PG_GROUP ::1/128 scram-sha-256"
    cat "$hba"
  } >"$tmp"
  cat "$tmp" >"$hba"
  rm -f "$tmp"
fi
psql -q -h 127.0.0.1 -U postgres -d postgres -v ON_ERROR_STOP=1 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_GROUP') THEN
    CREATE ROLE $PG_GROUP NOLOGIN;
  END IF;
END \$\$;
SELECT pg_reload_conf();
SQL
echo "databases: PostgreSQL answers at 127.0.0.1:5432"

# ---------------------------------------------------------------- MariaDB
if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  echo "databases: installing MariaDB"
  install mariadb-server mariadb-client
fi
if ! maria_up; then
  echo "databases: starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 100); do maria_up && break; sleep 0.2; done
  maria_up || { echo "databases: MariaDB did not start"; exit 1; }
fi
echo "databases: MariaDB answers at 127.0.0.1:3306"
