#!/usr/bin/env bash
# Backup and restore, tested end to end on loopback PostgreSQL:
#   seed a database -> pg_dump -Fc -> restore into a fresh database -> flask db upgrade (a no-op)
#   -> /readyz answers 200 on the restored copy, the demo entrepreneur logs in and sees mentors
#   -> row counts match the original.
# Prints the dump size and the dump and restore times. Drops both databases and the dump on exit.
#
#   scripts/backup_restore_check.sh                      # 20,000 entrepreneurs x 1,500 mentors
#   ENTREPRENEURS=2000 MENTORS=150 scripts/backup_restore_check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
export PGHOST PGPORT PGUSER PGCONNECT_TIMEOUT=10
ADMIN_DB="${ADMIN_DB:-test}"
ENTREPRENEURS="${ENTREPRENEURS:-20000}" MENTORS="${MENTORS:-1500}"
SRC="jkm_backup_src_$$" DST="jkm_backup_dst_$$"
WORK="$(mktemp -d)" DUMP="$WORK/jakmentor.dump"
url() { echo "postgresql+psycopg://$PGUSER@$PGHOST:$PGPORT/$1"; }
admin() { psql -d "$ADMIN_DB" -qAt -v ON_ERROR_STOP=1 -c "$1"; }
cleanup() {
  admin "DROP DATABASE IF EXISTS $SRC" >/dev/null 2>&1 || true
  admin "DROP DATABASE IF EXISTS $DST" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.1f}')"; }

echo "== seed $ENTREPRENEURS entrepreneurs x $MENTORS mentors into $SRC"
admin "CREATE DATABASE $SRC"
DATABASE_URL="$(url "$SRC")" timeout 900 .venv/bin/flask --app webapp db upgrade >/dev/null
DATABASE_URL="$(url "$SRC")" timeout 900 .venv/bin/flask --app webapp demo load \
  --entrepreneurs "$ENTREPRENEURS" --mentors "$MENTORS" >/dev/null

echo "== backup: pg_dump -Fc"
t0=$(now)
timeout 900 pg_dump -Fc --no-owner -d "$SRC" -f "$DUMP"
t1=$(now)
size=$(stat -c %s "$DUMP")
echo "dump: $(numfmt --to=iec-i --suffix=B "$size") ($size bytes) in $(secs "$t0" "$t1") s"

echo "== restore into a fresh database $DST"
admin "CREATE DATABASE $DST"
t0=$(now)
timeout 900 pg_restore --no-owner --exit-on-error --jobs 2 -d "$DST" "$DUMP"
t1=$(now)
echo "restore: $(secs "$t0" "$t1") s"
psql -d "$DST" -qAt -c "ANALYZE" >/dev/null  # as after any restore: fresh planner statistics

echo "== flask db upgrade on the copy (must be a no-op)"
out=$(DATABASE_URL="$(url "$DST")" timeout 300 .venv/bin/flask --app webapp db upgrade 2>&1)
echo "$out" | tail -n 1
grep -q "(0 reference rows written)" <<<"$out" || { echo "FAIL: db upgrade changed the restored copy"; exit 1; }
grep -q "Running upgrade" <<<"$out" && { echo "FAIL: db upgrade ran a migration on the restored copy"; exit 1; }

echo "== /readyz on the copy"
DATABASE_URL="$(url "$DST")" timeout 300 .venv/bin/python - <<'EOF'
import sys

from webapp import create_app

app = create_app({"ENV": "testing", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
client = app.test_client()
response = client.get("/readyz")
print("readyz:", response.status_code, response.get_json())
# The demo entrepreneur logs in with the password hashed in the original and sees mentors ranked.
login = client.post("/login", data={"email": "wirausaha@demo.jakmentor.id", "password": "jakarta-demo-2026"})
page = client.get("/me/mentors")
cards = page.get_data(as_text=True).count('mentor-card"')
print(f"demo entrepreneur: login {login.status_code}, suggestions page {page.status_code} with {cards} mentor cards")
app.extensions["jakmentor.engine"].dispose()
sys.exit(0 if response.status_code == 200 and login.status_code == 302 and page.status_code == 200 and cards else 1)
EOF

echo "== row counts, original vs copy"
tables=(user_account entrepreneur mentor mentor_match match_request status_change room kecamatan alembic_version)
bad=0
for t in "${tables[@]}"; do
  a=$(psql -d "$SRC" -qAt -c "SELECT count(*) FROM $t")
  b=$(psql -d "$DST" -qAt -c "SELECT count(*) FROM $t")
  printf '%-16s %8s %8s %s\n' "$t" "$a" "$b" "$([ "$a" = "$b" ] && echo ok || echo DIFFERENT)"
  [ "$a" = "$b" ] || bad=1
done
a=$(psql -d "$SRC" -qAt -c "SELECT sum(active_count), max(updated_at) FROM mentor")
b=$(psql -d "$DST" -qAt -c "SELECT sum(active_count), max(updated_at) FROM mentor")
echo "mentor places held, newest change: $a | $b"
[ "$a" = "$b" ] || bad=1
[ "$bad" = 0 ] && echo "backup and restore: OK" || { echo "FAIL: the copy differs"; exit 1; }
