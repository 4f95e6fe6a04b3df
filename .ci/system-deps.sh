#!/usr/bin/env bash
# System packages Commune uses beyond PyPI: CBC and GLPK (PuLP's other solvers),
# QSopt_ex's esolver (exact rational LP: the exact leximin path and certificate),
# Debian's Chromium (browser tests), PostgreSQL (API tests on PostgreSQL).
# Installs only what is missing, and only where apt-get can run (root).
set -u
need=()
command -v cbc >/dev/null 2>&1 || need+=(coinor-cbc)
command -v glpsol >/dev/null 2>&1 || need+=(glpk-utils)
command -v esolver >/dev/null 2>&1 || need+=(qsopt-ex)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! command -v postgres >/dev/null 2>&1 \
   && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  need+=(postgresql)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${need[*]}; install them with your package manager (tests that need them will fail)" >&2
  exit 0
fi
echo "system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
