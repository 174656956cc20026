#!/usr/bin/env bash
# The README's first command after bootstrap: builds the offline example images, shows the
# example stack as berth resolves it, and runs its image's programs in berth containers.
# (`berth up` of the stack itself comes with the lifecycle layer; see README "Status".)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
berth=(node "$here/../bin/berth.js")

"$here/build-images.sh"
echo
echo "== berth images"
"${berth[@]}" images
echo
echo "== the example stack, as berth resolves it (berth -f examples/stack/compose.yaml config)"
"${berth[@]}" -f "$here/stack/compose.yaml" config
echo "== its dependency graph (berth graph)"
"${berth[@]}" -f "$here/stack/compose.yaml" graph
echo
echo "== a container from berth-examples/debian-py:bookworm, run by berth-runtime"
node "$here/run-container.mjs" berth-examples/debian-py:bookworm /bin/sh -c \
  'echo "hostname: $(hostname)"; python3 --version; redis-server --version | cut -d" " -f1-3; echo "processes visible:"; ls /proc | grep -c "^[0-9]"'
