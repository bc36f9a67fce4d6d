#!/usr/bin/env bash
# make demo: the real job against the Chat API emulator on a free loopback
# port, with some latency, a quota and a few faults. No credentials needed.
set -euo pipefail
cd "$(dirname "$0")/.."

work=.demo
rm -rf "$work"
mkdir -p "$work"
results="$work/spaces.results.json"

# 40 ms per call, 120 space writes a minute, 5% of calls answered 503 and
# 5% of creates whose answer is lost after the space was made.
# The group platform-eng@example.com is known to the Cloud Identity lookup
# the emulator serves too (--groups-endpoint points at it).
bin/chatemu --latency 40ms --space-quota 120 --fail-rate 0.05 --drop-rate 0.05 --seed 7 \
	--group platform-eng@example.com=03x9platformeng \
	>"$work/chatemu.out" 2>"$work/chatemu.log" &
emu=$!
trap 'kill $emu 2>/dev/null || true; wait $emu 2>/dev/null || true' EXIT
for _ in $(seq 100); do
	[ -s "$work/chatemu.out" ] && break
	sleep 0.05
done
url=$(head -n1 "$work/chatemu.out")
case "$url" in
http://127.0.0.1:*) ;;
*) echo "demo: the emulator did not start:" >&2; cat "$work/chatemu.log" >&2; exit 1 ;;
esac

run() {
	echo
	echo "\$ provision $*"
	bin/provision --endpoint "$url" --groups-endpoint "$url" --auth none --results "$results" "$@"
}

echo "Chat API emulator at $url"
run --plan spaces.example.yaml
run --rate 600 spaces.example.yaml
echo
echo "\$ cat $results"
cat "$results"
echo
echo "Run it again: everything is recorded, so nothing is written."
run --rate 600 spaces.example.yaml
echo
echo "Emulator counters (${url}_emulator/stats):"
if command -v curl >/dev/null; then
	curl -fsS "${url}_emulator/stats" |
		grep -oE '"(spacesCreated|duplicates|replays|lostResponses|unavailable|throttled|membersAdded|messagesCreated)":[0-9]+' |
		tr '\n' ' '
	echo
fi
