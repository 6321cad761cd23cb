# Sourced by the load scripts: installs wrk from Debian's packages when it
# is missing (the machine has no wrk until a first load run).
if ! command -v wrk >/dev/null; then
  apt-get install -y wrk >/dev/null || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
