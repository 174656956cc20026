#!/usr/bin/env bash
# The README's first command after bootstrap: builds the offline example images, then brings the
# example stack (a Python web app counting visits in redis) up with `berth up -d --wait` and
# shows it answering. The stack keeps running; the last lines say how to look at it and stop it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
berth=(node "$here/../bin/berth.js")
stack="$here/stack"

"$here/build-images.sh"
echo
echo "== berth up -d --wait   (in examples/stack)"
(cd "$stack" && "${berth[@]}" up -d --wait --timeline)
echo
echo "== berth ps"
(cd "$stack" && "${berth[@]}" ps)
echo
echo "== the app, from the host"
for _ in 1 2 3; do curl -fsS http://127.0.0.1:8080/; done
echo
echo "The stack is running. Try:"
echo "  curl http://127.0.0.1:8080/                      # the app (counts visits in redis)"
echo "  cd examples/stack && node ../../bin/berth.js logs -f  # follow both services' logs"
echo "  cd examples/stack && node ../../bin/berth.js down -v  # remove everything it made"
