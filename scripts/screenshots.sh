#!/usr/bin/env bash
# Seeds a demo data dir, opens Kite on each screen under Xvfb and writes a
# PNG of the window per screen into the given folder.
set -euo pipefail
out=${1:-docs/screenshots}
bin=${KITE_BIN:-./bin/kite}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" demo seed --messages 20000 --conversations 200 --data-dir "$tmp/data" >/dev/null
mkdir -p "$out"
for screen in inbox direct group requests info new settings; do
	xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- bash -c '
		"$1" --data-dir "$2/data" --no-mdns --listen /ip4/127.0.0.1/tcp/0 --screen "$3" 2>>"$2/gui.log" &
		pid=$!
		win=""
		for _ in $(seq 1 60); do
			win=$(xdotool search --onlyvisible --name "^Kite" 2>/dev/null | head -n 1 || true)
			[ -n "$win" ] && break
			sleep 0.5
		done
		sleep 3 # let the screen load its pages
		if [ -n "$win" ]; then import -window "$win" "$4"; else import -window root "$4"; fi
		kill "$pid"; wait "$pid" 2>/dev/null || true
	' _ "$bin" "$tmp" "$screen" "$out/$screen.png" 2>/dev/null
	echo "wrote $out/$screen.png"
done
