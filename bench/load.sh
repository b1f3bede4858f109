#!/usr/bin/env bash
# Load on loopback: wrk at 8 and 32 connections for 60 s (LOAD_SECONDS) against the
# customer API list, My day and the quick-log POST, through gunicorn in the production
# shape (2 sync workers, BENCH_WORKERS). Prints req/s, p50, p99 and errors of each run,
# then the RSS of the web workers.
#
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/followup_h13_bench bench/load.sh
#
# Needs wrk (Debian: apt-get install -y wrk) and the data set of bench/engagements.py
# (built on first use). Every quick-log POST logs a real touchpoint in the bench database;
# the POSTs are spread over up to 200 customers of rep 0 (PAIRS), as a rep's calls are,
# instead of all waiting on one engagement's row lock.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${BENCH_DATABASE_URL:=postgres://postgres@127.0.0.1:5432/followup_bench}"
: "${LOAD_SECONDS:=60}"
: "${BENCH_WORKERS:=2}"
: "${PORT:=18201}"
PY=.venv/bin/python
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)"; exit 1; }

export DJANGO_SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(48))')-load"
eval "$(BENCH_DATABASE_URL=$BENCH_DATABASE_URL $PY bench/load_prepare.py | grep -E '^[A-Z_]+=')"

export DJANGO_ENV=production DATABASE_URL="$BENCH_DATABASE_URL" EMAIL_HOST=127.0.0.1 \
  DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost DJANGO_SECURE_SSL_REDIRECT=false \
  FOLLOWUP_API_RATE=100000000/min
unset CELERY_TASK_ALWAYS_EAGER
$PY manage.py collectstatic --noinput -v0  # production pages need the hashed manifest
.venv/bin/gunicorn followup.site.wsgi:application --bind "127.0.0.1:$PORT" \
  --workers "$BENCH_WORKERS" --worker-class sync --log-level warning --timeout 120 &
MASTER=$!
trap 'kill $MASTER 2>/dev/null; wait $MASTER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.3
done

LUA=$(mktemp --suffix=.lua)
cat >"$LUA" <<LUA
local pairs = {}
for customer, engagement in string.gmatch("$PAIRS", "([^:,]+):([^,]+)") do
  pairs[#pairs + 1] = { customer, engagement }
end
local threads, counter = 0, 0
function setup(thread)
  threads = threads + 1
  thread:set("offset", threads * 97)
end
function init(args)
  counter = offset or 0
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "sessionid=$SESSION; csrftoken=$CSRF"
wrk.headers["X-CSRFToken"] = "$CSRF"
wrk.headers["HX-Request"] = "true"
wrk.headers["HX-Target"] = "quick-log"
function request()
  counter = counter + 1
  local pair = pairs[(counter % #pairs) + 1]
  local body = "customer=" .. pair[1] .. "&engagement=" .. pair[2]
    .. "&channel=call&summary=Load+bench+call&effort_minutes=5"
  return wrk.format(nil, nil, nil, body)
end
LUA

BASE="http://127.0.0.1:$PORT"
report() {  # name connections -- wrk args
  local name=$1 connections=$2; shift 2
  local out
  out=$(wrk -t2 -c"$connections" -d"${LOAD_SECONDS}s" --latency --timeout 30s "$@")
  local rps p50 p99 errors non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errors=$(awk '/Socket errors/ {gsub(",", ""); print $4 + $6 + $8 + $10}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '%-16s c=%-3s %9s req/s  p50 %8s  p99 %8s  errors %s (socket %s, non-2xx/3xx %s)\n' \
    "$name" "$connections" "$rps" "$p50" "$p99" "$(( ${errors:-0} + ${non2xx:-0} ))" \
    "${errors:-0}" "${non2xx:-0}"
  grep -E "Socket errors" <<<"$out" | sed 's/^/    /' || true
}

echo "My day HTML: $(curl -fs -H "Cookie: sessionid=$SESSION" "$BASE/o/bench/" | wc -c) bytes"
for connections in 8 32; do
  report "API list" "$connections" -H "Authorization: Bearer $API_KEY" "$BASE/api/v1/customers/"
  report "My day" "$connections" -H "Cookie: sessionid=$SESSION" "$BASE/o/bench/"
  report "quick-log POST" "$connections" -s "$LUA" "$BASE/o/bench/touchpoints/log/"
done
for pid in $(cat "/proc/$MASTER/task/$MASTER/children"); do
  echo "web worker $pid RSS $(awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$pid/status")"
done
rm -f "$LUA"
