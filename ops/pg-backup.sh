#!/bin/sh
# Logical backups of the req1 database for Docker Compose and the native `make up` stack (docs/backups.md).
#
#   pg-backup.sh once            one dump now, then retention
#   pg-backup.sh loop            a dump at start when none is recent, then one every day at BACKUP_AT (UTC)
#   pg-backup.sh restore FILE    restore FILE (a dump from `once`) into the database, in one transaction
#   pg-backup.sh list            the dumps, oldest first
#   pg-backup.sh s3-sync         copy to S3 every dump not there yet, then retention in S3
#   pg-backup.sh s3-loop         s3-sync every BACKUP_S3_INTERVAL seconds (default 900)
#   pg-backup.sh s3-list         the dumps in S3, oldest first, with their sizes
#   pg-backup.sh s3-fetch NAME [DIR]   download dump NAME from S3 into DIR (default BACKUP_DIR)
#
# Connection: the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE (never a password on a command
# line). Settings: BACKUP_DIR (default /backups), BACKUP_AT (HH:MM UTC, default 03:00), BACKUP_KEEP_DAYS
# (default 14; the newest BACKUP_KEEP_MIN dumps, default 3, are kept whatever their age), PG_BIN (where pg_dump
# and pg_restore are, default: PATH).
# S3 copies (optional, only when BACKUP_S3_BUCKET is set; the s3-* commands need Python with boto3, BACKUP_PYTHON,
# default python3): BACKUP_S3_ENDPOINT (empty: AWS), BACKUP_S3_REGION (default us-east-1), BACKUP_S3_BUCKET,
# BACKUP_S3_PREFIX (default req1-dumps/), BACKUP_S3_ACCESS_KEY_ID, BACKUP_S3_SECRET_ACCESS_KEY, BACKUP_S3_KEEP_DAYS
# (default BACKUP_KEEP_DAYS; the newest BACKUP_KEEP_MIN are kept whatever their age), BACKUP_S3_STATE (where
# .s3-last-ok is written, default /tmp).
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
  # Where Python with boto3 is at hand (native stack), the copy follows each dump; Compose runs s3-loop beside.
  if [ -n "${BACKUP_S3_BUCKET:-}" ]; then s3_sync; fi
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

# The S3 side in Python/boto3 (no S3 client in the postgres image; the app image has boto3): one program, its
# action and arguments after it. Keys come from the environment only.
s3() {
  "${BACKUP_PYTHON:-python3}" - "$@" <<'PY'
import datetime as dt, os, re, sys
from pathlib import Path
import boto3
from botocore.config import Config

env = os.environ
bucket, prefix = env["BACKUP_S3_BUCKET"], env.get("BACKUP_S3_PREFIX", "req1-dumps/")
keep_days = int(env.get("BACKUP_S3_KEEP_DAYS") or env.get("BACKUP_KEEP_DAYS") or 14)
keep_min = int(env.get("BACKUP_KEEP_MIN") or 3)
endpoint = env.get("BACKUP_S3_ENDPOINT") or None
# An own endpoint (SeaweedFS, MinIO) by path: bucket.host names rarely resolve there.
client = boto3.client("s3", endpoint_url=endpoint, region_name=env.get("BACKUP_S3_REGION") or "us-east-1",
                      aws_access_key_id=env.get("BACKUP_S3_ACCESS_KEY_ID") or None,
                      aws_secret_access_key=env.get("BACKUP_S3_SECRET_ACCESS_KEY") or None,
                      config=Config(s3={"addressing_style": "path" if endpoint else "auto"},
                                    retries={"max_attempts": 3}, connect_timeout=10))
NAME = re.compile(r"req1-(\d{8}T\d{6}Z)\.dump")


def log(msg):
    print(dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "pg-backup:", msg, file=sys.stderr)


def remote():
    # dump name -> size under the prefix, oldest first (the name is the dump's UTC time)
    found = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            name = obj["Key"][len(prefix):]
            if NAME.fullmatch(name):
                found[name] = obj["Size"]
    return dict(sorted(found.items()))


def sync(local_dir):
    have = remote()
    for path in sorted(Path(local_dir).glob("req1-*.dump")):
        if have.get(path.name) == path.stat().st_size:
            continue
        client.upload_file(str(path), bucket, prefix + path.name)
        size = client.head_object(Bucket=bucket, Key=prefix + path.name)["ContentLength"]
        if size != path.stat().st_size:
            sys.exit(f"upload of {path.name} is {size} bytes in S3, {path.stat().st_size} here")
        log(f"s3: uploaded {path.name} ({size} bytes) to s3://{bucket}/{prefix}")
    # Retention by the time in the name (when the dump was taken, not when it reached S3); the newest keep_min stay.
    names = list(remote())
    now = dt.datetime.now(dt.timezone.utc)
    for name in names[: max(len(names) - keep_min, 0)]:
        taken = dt.datetime.strptime(NAME.fullmatch(name).group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
        if now - taken >= dt.timedelta(days=keep_days):
            client.delete_object(Bucket=bucket, Key=prefix + name)
            log(f"s3 retention: removed {name} (older than {keep_days} days)")


action, args = sys.argv[1], sys.argv[2:]
if action == "sync":
    sync(args[0])
elif action == "list":
    for name, size in remote().items():
        print(f"{name} {size}")
elif action == "fetch":
    if not NAME.fullmatch(args[0]):
        sys.exit(f"not a dump name: {args[0]}")
    dest = Path(args[1]) / args[0]
    tmp = dest.with_name(f".{dest.name}.partial")
    client.download_file(bucket, prefix + args[0], str(tmp))
    tmp.rename(dest)
    log(f"s3: fetched {args[0]} into {dest}")
PY
}

s3_sync() {
  : "${BACKUP_S3_BUCKET:?set BACKUP_S3_BUCKET to copy dumps to S3}"
  mkdir -p "$BACKUP_DIR"
  s3 sync "$BACKUP_DIR"
  date -u +%Y-%m-%dT%H:%M:%SZ > "${BACKUP_S3_STATE:-/tmp}/.s3-last-ok"
}

s3_loop() {
  log "copying dumps from $BACKUP_DIR to s3://${BACKUP_S3_BUCKET:?set BACKUP_S3_BUCKET}/${BACKUP_S3_PREFIX:-req1-dumps/} every ${BACKUP_S3_INTERVAL:-900}s"
  while :; do
    s3_sync || log "s3 copy failed; next attempt in ${BACKUP_S3_INTERVAL:-900}s"
    sleep "${BACKUP_S3_INTERVAL:-900}" & wait $!
  done
}

trap 'exit 0' TERM INT
case "${1:-}" in
  once) once ;;
  loop) loop ;;
  restore) shift; restore "$@" ;;
  list) dumps ;;
  s3-sync) s3_sync ;;
  s3-loop) s3_loop ;;
  s3-list) : "${BACKUP_S3_BUCKET:?set BACKUP_S3_BUCKET}"; s3 list ;;
  s3-fetch) : "${BACKUP_S3_BUCKET:?set BACKUP_S3_BUCKET}"; s3 fetch "${2:?usage: pg-backup.sh s3-fetch NAME [DIR]}" "${3:-$BACKUP_DIR}" ;;
  *) echo "usage: pg-backup.sh once|loop|restore FILE|list|s3-sync|s3-loop|s3-list|s3-fetch NAME [DIR]" >&2; exit 2 ;;
esac
