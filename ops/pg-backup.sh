#!/bin/sh
# Logical backups of the req1 database for Docker Compose and the native `make up` stack (docs/backups.md).
#
#   pg-backup.sh once            one dump now, then retention
#   pg-backup.sh loop            a dump at start when none is recent, then one every day at BACKUP_AT (UTC)
#   pg-backup.sh restore FILE    restore FILE (a dump from `once`) into the database, in one transaction
#   pg-backup.sh list            the dumps, oldest first
#
# Connection: the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (never a password on a command
# line). Settings: BACKUP_DIR (default /backups), BACKUP_AT (HH:MM UTC, default 03:00), BACKUP_KEEP_DAYS
# (default 14; the newest BACKUP_KEEP_MIN dumps, default 3, are kept whatever their age), PG_BIN (where pg_dump
# and pg_restore are, default: PATH).
set -euf

BACKUP_DIR=${BACKUP_DIR:-/backups}
BACKUP_AT=${BACKUP_AT:-03:00}
BACKUP_KEEP_DAYS=${BACKUP_KEEP_DAYS:-14}
BACKUP_KEEP_MIN=${BACKUP_KEEP_MIN:-3}
PG_BIN=${PG_BIN:-}
bin() { if [ -n "$PG_BIN" ]; then echo "$PG_BIN/$1"; else echo "$1"; fi; }
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) pg-backup: $*" >&2; }

dumps() { find "$BACKUP_DIR" -maxdepth 1 -name 'req1-*.dump' -type f | sort; }

once() {
  mkdir -p "$BACKUP_DIR"
  name="req1-$(date -u +%Y%m%dT%H%M%SZ).dump"
  tmp="$BACKUP_DIR/.$name.partial"
  started=$(date +%s)
  # -Fc: compressed, restorable selectively and in parallel; written aside and renamed, so a dump is whole or absent
  "$(bin pg_dump)" --format=custom --no-owner --no-privileges --file="$tmp"
  mv "$tmp" "$BACKUP_DIR/$name"
  date -u +%Y-%m-%dT%H:%M:%SZ > "$BACKUP_DIR/.last-ok"
  log "wrote $name ($(wc -c < "$BACKUP_DIR/$name") bytes in $(( $(date +%s) - started ))s)"
  retention
}

retention() {
  total=$(dumps | wc -l)
  keep_from=$(( total - BACKUP_KEEP_MIN ))
  i=0
  for f in $(dumps); do
    i=$(( i + 1 ))
    [ "$i" -le "$keep_from" ] || break
    if [ -n "$(find "$f" -mtime +"$((BACKUP_KEEP_DAYS - 1))" 2>/dev/null)" ]; then
      rm -f "$f" && log "retention: removed $(basename "$f") (older than $BACKUP_KEEP_DAYS days)"
    fi
  done
}

seconds_until_next() {
  now=$(date -u +%s)
  next=$(date -u -d "today $BACKUP_AT" +%s)
  [ "$next" -gt "$now" ] || next=$(date -u -d "tomorrow $BACKUP_AT" +%s)
  echo $(( next - now ))
}

loop() {
  log "daily at $BACKUP_AT UTC into $BACKUP_DIR, keeping $BACKUP_KEEP_DAYS days"
  # No dump within the last day (a new install, or a host that was off): take one now.
  if [ -z "$(find "$BACKUP_DIR" -maxdepth 1 -name 'req1-*.dump' -mmin -1440 2>/dev/null)" ]; then
    once || log "dump failed; next attempt at $BACKUP_AT"
  fi
  while :; do
    sleep "$(seconds_until_next)" & wait $!
    once || log "dump failed; next attempt tomorrow at $BACKUP_AT"
  done
}

restore() {
  file=${1:?usage: pg-backup.sh restore FILE}
  [ -f "$file" ] || { log "no such dump: $file"; exit 1; }
  log "restoring $file"
  # --clean --if-exists: drop what the dump recreates; one transaction: all of it or nothing
  "$(bin pg_restore)" --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
    --dbname="${PGDATABASE:?set PGDATABASE}" "$file"
  log "restored $file"
}

trap 'exit 0' TERM INT
case "${1:-}" in
  once) once ;;
  loop) loop ;;
  restore) shift; restore "$@" ;;
  list) dumps ;;
  *) echo "usage: pg-backup.sh once|loop|restore FILE|list" >&2; exit 2 ;;
esac
