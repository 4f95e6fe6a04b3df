#!/usr/bin/env bash
# Make sure PostgreSQL answers on localhost for the API tests: use the running
# server when there is one, start Debian's cluster when it is installed but down.
set -u
if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then exit 0; fi
bash "$(dirname "$0")/system-deps.sh"
if command -v pg_ctlcluster >/dev/null 2>&1; then
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
  if [ -n "$ver" ]; then
    pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  fi
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && exit 0; sleep 1; done
echo "services: PostgreSQL is not answering on 127.0.0.1:5432; PostgreSQL tests will fail" >&2
