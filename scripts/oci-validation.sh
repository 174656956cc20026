#!/usr/bin/env bash
# OCI runtime conformance for berth-runtime, compared against runc or crun.
#
#   scripts/oci-validation.sh [--runtime berth|runc|crun|PATH] [--compare] [--src DIR] [--keep]
#
# Two suites, chosen by what this machine has:
#  - upstream: opencontainers/runtime-tools `validation/` + `runtimetest`, built in GOPATH mode
#    in a temp dir, each executable run with `timeout 60` and its TAP parsed. It needs the
#    runtime-tools *source tree* (--src DIR or OCI_RUNTIME_TOOLS_SRC): Debian's
#    golang-github-opencontainers-runtime-tools-dev ships only the library packages, not
#    validation/ nor cmd/runtimetest, and github.com/mndrix/tap-go is not packaged in Debian
#    (a small TAP writer, written here, stands in for it). See docs/oci-validation.md.
#  - spec (used when the upstream tree is absent): berth's own checks of the runtime spec's
#    lifecycle and config MUSTs, run on bundles whose config.json is the runtime-tools default
#    config (Debian's `generate` package), plus Debian's `validate` package on that bundle.
# Prints TAP while running, then a per-test table and the line "N passed, N failed".
# Exit status: 0 all passed, 1 some failed, 2 could not run.
set -uo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
runtime_arg=berth
compare=0
keep=0
src="${OCI_RUNTIME_TOOLS_SRC:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime) runtime_arg="${2:?--runtime needs a value}"; shift 2 ;;
    --runtime=*) runtime_arg="${1#*=}"; shift ;;
    --compare) compare=1; shift ;;
    --src) src="${2:?--src needs a directory}"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "oci-validation: unknown argument \"$1\" (see --help)" >&2; exit 2 ;;
  esac
done

resolve_runtime() {
  case "$1" in
    berth) echo "$here/runtime/build/berth-runtime" ;;
    runc|crun) command -v "$1" || echo "/usr/sbin/$1" ;;
    *) echo "$1" ;;
  esac
}

if [ "$(id -u)" -ne 0 ]; then
  echo "oci-validation: needs root (containers, cgroups, mounts)" >&2
  exit 2
fi

# --- packages ---------------------------------------------------------------------------
gocode=/usr/share/gocode/src
packages=(golang-go golang-github-opencontainers-runtime-tools-dev busybox-static jq)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "# installing ${missing[*]}" >&2
  timeout 600 apt-get update -qq >/dev/null 2>&1
  if ! DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq "${missing[@]}" >/dev/null; then
    echo "oci-validation: could not install ${missing[*]} with apt-get" >&2
    exit 2
  fi
fi

work="$(mktemp -d /tmp/berth-ocival.XXXXXX)"
cg_parent="berth-ocival-$$"
ids=()            # every container id this run created, for cleanup
cleanup() {
  local r id left=0
  for r in "${runtimes_used[@]:-}"; do
    [ -n "$r" ] || continue
    for id in "${ids[@]:-}"; do
      [ -n "$id" ] || continue
      timeout 20 "$r" --root "$work/state-$(basename "$r")" delete --force "$id" >/dev/null 2>&1
    done
  done
  # cgroups left by a runtime that failed half-way (deepest first)
  local i d
  for i in $(seq 1 20); do
    left=0
    for d in /sys/fs/cgroup/*/"$cg_parent" /sys/fs/cgroup/"$cg_parent"; do
      [ -d "$d" ] || continue
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
      [ -d "$d" ] && left=1
    done
    [ "$left" -eq 0 ] && break
    sleep 0.25
  done
  [ "$left" -eq 0 ] || echo "oci-validation: cgroup $cg_parent could not be removed (busy)" >&2
  find "$work" -maxdepth 3 -name mnt-point -exec umount -l {} \; 2>/dev/null
  if [ "$keep" -eq 1 ]; then echo "# kept $work" >&2; else rm -rf "$work"; fi
}
runtimes_used=()
trap cleanup EXIT
trap 'exit 130' INT TERM

export GO111MODULE=off GOPROXY=off GOFLAGS= GOCACHE="$work/gocache" GOPATH="$work/gopath:/usr/share/gocode"
mkdir -p "$work/gopath/src"

# --- the config writer/validator, on Debian's runtime-tools library -----------------------
build_ocispec() {
  mkdir -p "$work/gopath/src/ocispec"
  cat >"$work/gopath/src/ocispec/main.go" <<'EOF'
// ocispec writes the runtime-tools default config into a bundle, or validates a bundle,
// with Debian's runtime-tools library packages (generate, validate).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/go-multierror"
	"github.com/opencontainers/runtime-tools/generate"
	"github.com/opencontainers/runtime-tools/validate"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: ocispec gen BUNDLE [--no-seccomp] [-- ARGS...] | ocispec validate BUNDLE")
		os.Exit(2)
	}
	bundle := os.Args[2]
	switch os.Args[1] {
	case "gen":
		g, err := generate.New("linux")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		g.SetRootPath("rootfs")
		rest := os.Args[3:]
		for len(rest) > 0 && rest[0] != "--" {
			if rest[0] == "--no-seccomp" {
				g.Config.Linux.Seccomp = nil
			}
			rest = rest[1:]
		}
		if len(rest) > 1 {
			g.SetProcessArgs(rest[1:])
		}
		if err := g.SaveToFile(filepath.Join(bundle, "config.json"), generate.ExportOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "validate":
		// CheckAll without CheckJSONSchema, which downloads the schema from the internet.
		v, err := validate.NewValidatorFromPath(bundle, true, "linux")
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		failed := false
		for _, c := range []struct {
			name string
			fn   func() error
		}{
			{"platform", v.CheckPlatform}, {"root", v.CheckRoot},
			{"mandatory", v.CheckMandatoryFields}, {"semver", v.CheckSemVer},
			{"mounts", v.CheckMounts}, {"process", v.CheckProcess},
			{"linux", v.CheckLinux}, {"annotations", v.CheckAnnotations},
			{"hooks", v.CheckHooks},
		} {
			err := c.fn()
			if me, ok := err.(*multierror.Error); ok {
				err = me.ErrorOrNil() // an empty multierror is a typed nil
			}
			if err != nil {
				fmt.Printf("%s: %v\n", c.name, err)
				failed = true
			}
		}
		if failed {
			os.Exit(1)
		}
	default:
		os.Exit(2)
	}
}
EOF
  (cd "$work/gopath/src/ocispec" && timeout 300 go build -o "$work/ocispec" .)
}

# A minimal stand-in for github.com/mndrix/tap-go (not packaged in Debian): the calls the
# validation programs make, printing TAP version 13.
write_tap_shim() {
  local d="$work/gopath/src/github.com/mndrix/tap-go"
  mkdir -p "$d"
  cat >"$d/tap.go" <<'EOF'
// Package tap writes Test Anything Protocol output (stand-in written for berth's harness).
package tap

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// T is one TAP stream.
type T struct {
	nextTestNumber int
	TODO           bool
	Writer         io.Writer
}

// New starts a stream on stdout.
func New() *T { return &T{nextTestNumber: 1, Writer: os.Stdout} }

func (t *T) printf(f string, a ...interface{}) { fmt.Fprintf(t.Writer, f, a...) }

// Header prints the version line and, when n > 0, the plan.
func (t *T) Header(n int) {
	t.printf("TAP version 13\n")
	if n > 0 {
		t.printf("1..%d\n", n)
	}
}

// Ok reports one test.
func (t *T) Ok(ok bool, d string) {
	s := "ok"
	if !ok {
		s = "not ok"
	}
	if t.TODO {
		d = "# TODO " + d
	}
	t.printf("%s %d - %s\n", s, t.nextTestNumber, d)
	t.nextTestNumber++
}

// Pass reports a passing test.
func (t *T) Pass(d string) { t.Ok(true, d) }

// Fail reports a failing test.
func (t *T) Fail(d string) { t.Ok(false, d) }

// Skip reports n skipped tests.
func (t *T) Skip(n int, d string) {
	for i := 0; i < n; i++ {
		t.printf("ok %d # SKIP %s\n", t.nextTestNumber, d)
		t.nextTestNumber++
	}
}

// Todo marks the following tests as TODO.
func (t *T) Todo() *T { c := *t; c.TODO = true; return &c }

// Count is the number of tests reported so far.
func (t *T) Count() int { return t.nextTestNumber - 1 }

// AutoPlan prints the plan from the count.
func (t *T) AutoPlan() { t.printf("1..%d\n", t.Count()) }

// Diagnostic prints a comment line per line of message.
func (t *T) Diagnostic(m string) {
	for _, l := range strings.Split(strings.TrimRight(m, "\n"), "\n") {
		t.printf("# %s\n", l)
	}
}

// Diagnosticf is Diagnostic with a format.
func (t *T) Diagnosticf(f string, a ...interface{}) { t.Diagnostic(fmt.Sprintf(f, a...)) }

// YAML prints a YAML-ish block of the value.
func (t *T) YAML(v interface{}) error {
	t.printf("  ---\n  %v\n  ...\n", v)
	return nil
}
EOF
}

# --- result bookkeeping ---------------------------------------------------------------------
declare -A result detail
order=()
record() { # name ok|fail|skip detail
  order+=("$1"); result[$1]="$2"; detail[$1]="${3:-}"
}

# =============================================================================================
# upstream suite
# =============================================================================================
upstream_reason=""
find_upstream() {
  local cand
  for cand in "$src" "$gocode/github.com/opencontainers/runtime-tools"; do
    [ -n "$cand" ] || continue
    if [ -d "$cand/validation" ] && [ -f "$cand/cmd/runtimetest/main.go" ]; then
      up="$cand"; return 0
    fi
  done
  upstream_reason="no runtime-tools source tree with validation/ and cmd/runtimetest/:"
  upstream_reason+=" Debian's golang-github-opencontainers-runtime-tools-dev ($(dpkg-query -W -f='${Version}' golang-github-opencontainers-runtime-tools-dev 2>/dev/null))"
  upstream_reason+=" ships only $(cd "$gocode/github.com/opencontainers/runtime-tools" 2>/dev/null && ls -d */ | tr -d / | tr '\n' ' ')"
  [ -n "$src" ] && upstream_reason+="; --src \"$src\" has no validation/ + cmd/runtimetest/main.go"
  [ -d "$gocode/github.com/mndrix/tap-go" ] || upstream_reason+="; github.com/mndrix/tap-go is not in Debian either (a stand-in is provided)"
  return 1
}

build_upstream() { # srcdir
  local dst="$work/gopath/src/github.com/opencontainers/runtime-tools" f name
  mkdir -p "$dst"
  cp -a "$gocode/github.com/opencontainers/runtime-tools/." "$dst/"
  cp -a "$1/." "$dst/"
  rm -rf "$dst/vendor" "$dst/go.mod" "$dst/go.sum"
  [ -d "$gocode/github.com/mndrix/tap-go" ] || write_tap_shim
  mkdir -p "$work/upstream"
  (cd "$dst" && timeout 300 go build -o "$work/upstream/runtimetest" ./cmd/runtimetest) || return 1
  for f in "$dst"/validation/*/*.go; do
    name="$(basename "$(dirname "$f")")"
    [ "$name" = util ] && continue
    case "$f" in *_test.go) continue ;; esac
    if ! (cd "$dst" && timeout 300 go build -o "$work/upstream/bin/$name.t" "$f") >"$work/upstream/$name.build.log" 2>&1; then
      build_failed+=("$name")
    fi
  done
  # the programs unpack rootfs-<arch>.tar.gz from their working directory
  mkdir -p "$work/upstream/rootfs/bin"
  cp /bin/busybox "$work/upstream/rootfs/bin/"
  (cd "$work/upstream/rootfs/bin" && for a in $(./busybox --list); do [ -e "$a" ] || ln -s busybox "$a"; done)
  tar -C "$work/upstream/rootfs" -czf "$work/upstream/rootfs-amd64.tar.gz" .
}

build_failed=()
run_upstream() { # runtime
  local t name out rc nok
  for name in "${build_failed[@]:-}"; do
    [ -n "$name" ] && record "$name" fail "build: $(head -c 300 "$work/upstream/$name.build.log" | tr '\n' ' ')"
  done
  for t in "$work"/upstream/bin/*.t; do
    name="$(basename "$t" .t)"
    out="$(cd "$work/upstream" && RUNTIME="$1" timeout 60 "$t" 2>&1)"; rc=$?
    printf '%s\n' "$out" | sed "s/^/[$name] /"
    nok="$(printf '%s\n' "$out" | grep -c '^not ok' || true)"
    if [ "$rc" -eq 124 ]; then record "$name" fail "timeout after 60 s"
    elif [ "$nok" -gt 0 ] || [ "$rc" -ne 0 ]; then
      record "$name" fail "$(printf '%s\n' "$out" | grep -m3 -A2 '^not ok' | tr '\n' ' ' | head -c 400)"
    elif printf '%s\n' "$out" | grep -q '^1\.\.0'; then record "$name" skip "plan 1..0"
    else record "$name" ok ""
    fi
  done
}

# =============================================================================================
# spec checks (berth's own, on the runtime-tools default config)
# =============================================================================================
R=""; ST=""; n=0
base_rootfs() {
  chmod 755 "$work"   # a user namespace's root must reach the rootfs
  printf '%s\n' '#!/bin/sh' 's=$(cat)' 'echo "$1 $(echo "$s" | jq -r .id) $(echo "$s" | jq -r .status)" >>"$2"' 'exit "${3:-0}"' >"$work/hooklog.sh"
  mkdir -p "$work/rootfs/bin" "$work/rootfs/tmp" "$work/rootfs/out" "$work/rootfs/proc" "$work/rootfs/sys" "$work/rootfs/dev"
  cp /bin/busybox "$work/rootfs/bin/"
  (cd "$work/rootfs/bin" && for a in $(./busybox --list); do [ -e "$a" ] || ln -s busybox "$a"; done)
}
rt() { timeout 20 "$R" --root "$ST" "$@"; }
# new_bundle NAME [--seccomp] -- ARGS... : fresh bundle, default config, own cgroup, /out bound
# to $work/b/NAME/out on the host.
new_bundle() {
  local name="$1" b="$work/b/$1"; shift
  local seccomp="--no-seccomp"
  [ "${1:-}" = --seccomp ] && { seccomp=""; shift; }
  rm -rf "$b"; mkdir -p "$b/out"
  cp -al "$work/rootfs" "$b/rootfs"
  "$work/ocispec" gen "$b" $seccomp "$@" || return 1
  cfg "$name" --arg cg "/$cg_parent/$name-$(basename "$R")" --arg out "$b/out" \
    '.linux.cgroupsPath = $cg | .mounts += [{"destination":"/out","type":"bind","source":$out,"options":["rbind","rw"]}]'
  ids+=("$name")
}
cfg() { # NAME [jq args...] FILTER
  local c="$work/b/$1/config.json"; shift
  jq "$@" "$c" >"$c.new" && mv "$c.new" "$c"
}
state_field() { rt state "$1" 2>/dev/null | jq -r "$2"; }
wait_status() { # id status : up to 5 s
  local i
  for i in $(seq 1 50); do
    [ "$(state_field "$1" .status)" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
run_in() { # NAME : attached run, stdout+stderr in $work/b/NAME/run.out, exit code returned
  (cd "$work/b/$1" && timeout 20 "$R" --root "$ST" run "$1" </dev/null >"$work/b/$1/run.out" 2>&1)
}
out_of() { cat "$work/b/$1/run.out"; }

# Each check prints nothing and returns 0 (pass) or 1 with the reason in $why.
why=""
check() { # name function
  local name="$1"; why=""
  n=$((n + 1))
  if "$2"; then
    echo "ok $n - $name"; record "$name" ok ""
  else
    echo "not ok $n - $name"; printf '%s\n' "$why" | sed 's/^/# /'
    record "$name" fail "$why"
  fi
}

t_bundle_validates() {
  new_bundle val --seccomp -- /bin/true
  why="$("$work/ocispec" validate "$work/b/val" 2>&1)"
}
t_default_config_run() {
  new_bundle defrun --seccomp -- /bin/sh -c 'echo hello'
  run_in defrun; local rc=$?
  [ "$rc" -eq 0 ] && [ "$(out_of defrun)" = hello ] || { why="run exit $rc: $(out_of defrun)"; return 1; }
}
t_run_exit_code() {
  new_bundle exitc -- /bin/sh -c 'exit 3'
  run_in exitc; local rc=$?
  [ "$rc" -eq 3 ] || { why="exit $rc, want 3: $(out_of exitc)"; return 1; }
}
t_create_state() {
  new_bundle cs -- /bin/sleep 30
  (cd "$work/b/cs" && rt create cs >/dev/null 2>&1) || { why="create failed"; return 1; }
  local s; s="$(rt state cs)"
  why="state: $s"
  [ "$(jq -r .status <<<"$s")" = created ] && [ "$(jq -r .id <<<"$s")" = cs ] &&
    [ "$(jq -r .pid <<<"$s")" -gt 0 ] && [ "$(jq -r .bundle <<<"$s")" = "$work/b/cs" ] &&
    [ -n "$(jq -r '.ociVersion // empty' <<<"$s")" ] && kill -0 "$(jq -r .pid <<<"$s")"
}
t_create_not_started() {
  new_bundle cns -- /bin/sh -c 'echo ran > /out/marker'
  (cd "$work/b/cns" && rt create cns >/dev/null 2>&1) || { why="create failed"; return 1; }
  sleep 0.5
  [ ! -e "$work/b/cns/out/marker" ] || { why="process ran before start"; return 1; }
  rt start cns >/dev/null 2>&1 || { why="start failed"; return 1; }
  local i; for i in $(seq 1 50); do [ -e "$work/b/cns/out/marker" ] && return 0; sleep 0.1; done
  why="process did not run after start"; return 1
}
t_create_duplicate_id() {
  new_bundle dup -- /bin/sleep 30
  (cd "$work/b/dup" && rt create dup >/dev/null 2>&1) || { why="first create failed"; return 1; }
  if (cd "$work/b/dup" && rt create dup >/dev/null 2>&1); then why="second create with the same id succeeded"; return 1; fi
  [ "$(state_field dup .status)" = created ] || { why="first container disturbed: $(rt state dup 2>&1)"; return 1; }
}
t_create_bad_bundle() {
  mkdir -p "$work/b/nocfg"; ids+=(nocfg)
  if (cd "$work/b/nocfg" && rt create nocfg >/dev/null 2>&1); then why="create without config.json succeeded"; return 1; fi
  if rt state nocfg >/dev/null 2>&1; then why="state of the failed container exists"; return 1; fi
}
t_start_running() {
  new_bundle sr -- /bin/sleep 30
  (cd "$work/b/sr" && rt create sr >/dev/null 2>&1 && rt start sr >/dev/null 2>&1) || { why="create/start failed"; return 1; }
  wait_status sr running || { why="state: $(rt state sr 2>&1)"; return 1; }
}
t_start_not_created() {
  new_bundle snc -- /bin/sleep 30
  (cd "$work/b/snc" && rt create snc >/dev/null 2>&1 && rt start snc >/dev/null 2>&1) || { why="create/start failed"; return 1; }
  if rt start snc >/dev/null 2>&1; then why="second start succeeded"; return 1; fi
  wait_status snc running || { why="container disturbed: $(rt state snc 2>&1)"; return 1; }
}
t_kill_term() {
  new_bundle kt -- /bin/sh -c 'trap "exit 0" TERM; while true; do sleep 0.1; done'
  (cd "$work/b/kt" && rt create kt >/dev/null 2>&1 && rt start kt >/dev/null 2>&1) || { why="create/start failed"; return 1; }
  sleep 0.3
  rt kill kt TERM >/dev/null 2>&1 || { why="kill TERM failed"; return 1; }
  wait_status kt stopped || { why="not stopped: $(rt state kt 2>&1)"; return 1; }
}
t_kill_numeric() {
  new_bundle kn -- /bin/sleep 30
  (cd "$work/b/kn" && rt create kn >/dev/null 2>&1 && rt start kn >/dev/null 2>&1) || { why="create/start failed"; return 1; }
  rt kill kn 9 >/dev/null 2>&1 || { why="kill 9 failed"; return 1; }
  wait_status kn stopped || { why="not stopped: $(rt state kn 2>&1)"; return 1; }
}
t_kill_stopped_errors() {
  new_bundle ks -- /bin/true
  (cd "$work/b/ks" && rt create ks >/dev/null 2>&1 && rt start ks >/dev/null 2>&1) || { why="create/start failed"; return 1; }
  wait_status ks stopped || { why="not stopped: $(rt state ks 2>&1)"; return 1; }
  if rt kill ks KILL >/dev/null 2>&1; then why="kill of a stopped container succeeded"; return 1; fi
  [ "$(state_field ks .status)" = stopped ] || { why="state changed"; return 1; }
}
t_delete_running_errors() {
  new_bundle dr -- /bin/sleep 30
  (cd "$work/b/dr" && rt create dr >/dev/null 2>&1 && rt start dr >/dev/null 2>&1) || { why="create/start failed"; return 1; }
  wait_status dr running || { why="not running"; return 1; }
  if rt delete dr >/dev/null 2>&1; then why="delete of a running container succeeded"; return 1; fi
  [ "$(state_field dr .status)" = running ] || { why="container disturbed: $(rt state dr 2>&1)"; return 1; }
}
t_delete_stopped() {
  new_bundle ds -- /bin/true
  (cd "$work/b/ds" && rt create ds >/dev/null 2>&1 && rt start ds >/dev/null 2>&1) || { why="create/start failed"; return 1; }
  wait_status ds stopped || { why="not stopped"; return 1; }
  rt delete ds >/dev/null 2>&1 || { why="delete failed"; return 1; }
  if rt state ds >/dev/null 2>&1; then why="state still answers after delete"; return 1; fi
  local left; left="$(find /sys/fs/cgroup -maxdepth 3 -path "*/$cg_parent/ds-*" 2>/dev/null | head -3)"
  [ -z "$left" ] || { why="cgroup left: $left"; return 1; }
}
t_state_unknown() {
  if rt state no-such-container >/dev/null 2>&1; then why="state of an unknown id succeeded"; return 1; fi
}
t_pid_file() {
  new_bundle pf -- /bin/sleep 30
  (cd "$work/b/pf" && rt create --pid-file "$work/b/pf/pid" pf >/dev/null 2>&1) || { why="create failed"; return 1; }
  local want; want="$(state_field pf .pid)"
  [ "$(cat "$work/b/pf/pid" 2>/dev/null)" = "$want" ] || { why="pid file \"$(cat "$work/b/pf/pid" 2>/dev/null)\", state pid $want"; return 1; }
}
hook() { # name exit-code -> hook JSON that appends "<name> <id> <status>" to the bundle's hooks.log
  jq -n --arg h "$work/hooklog.sh" --arg log "$work/b/$H/hooks.log" --arg n "$1" --arg rc "$2" \
    '{path:"/bin/sh", args:["sh", $h, $n, $log, $rc]}'
}
t_hooks_state_stdin() {
  H=hk; new_bundle hk -- /bin/true
  cfg hk --argjson a "$(hook prestart 0)" --argjson b "$(hook poststart 0)" --argjson c "$(hook poststop 0)" \
    '.hooks = {prestart:[$a], poststart:[$b], poststop:[$c]}'
  (cd "$work/b/hk" && rt create hk >/dev/null 2>&1 && rt start hk >/dev/null 2>&1) || { why="create/start failed"; return 1; }
  wait_status hk stopped; rt delete hk >/dev/null 2>&1
  local got; got="$(cat "$work/b/hk/hooks.log" 2>/dev/null | cut -d' ' -f1,2 | tr '\n' ' ')"
  why="hooks.log: $(tr '\n' ';' <"$work/b/hk/hooks.log" 2>/dev/null)"
  [ "$got" = "prestart hk poststart hk poststop hk " ]
}
t_prestart_fail() {
  H=pre; new_bundle pre -- /bin/sh -c 'echo ran > /out/marker'
  cfg pre --argjson a "$(hook prestart 1)" '.hooks = {prestart:[$a]}'
  local ok=1
  (cd "$work/b/pre" && rt create pre >/dev/null 2>&1 && rt start pre >/dev/null 2>&1) && ok=0
  sleep 0.3
  [ -e "$work/b/pre/out/marker" ] && { why="process ran although prestart failed"; return 1; }
  [ "$ok" -eq 1 ] || { why="create+start succeeded although prestart failed"; return 1; }
}
t_poststart_fail_continues() {
  H=post; new_bundle post -- /bin/sleep 30
  cfg post --argjson a "$(hook poststart 1)" '.hooks = {poststart:[$a]}'
  (cd "$work/b/post" && rt create post >/dev/null 2>&1) || { why="create failed"; return 1; }
  rt start post >/dev/null 2>&1
  [ "$(state_field post .status)" = running ] || { why="not running after a failing poststart: $(rt state post 2>&1)"; return 1; }
}
t_poststop_fail_deletes() {
  H=pstop; new_bundle pstop -- /bin/true
  cfg pstop --argjson a "$(hook poststop 1)" '.hooks = {poststop:[$a]}'
  (cd "$work/b/pstop" && rt create pstop >/dev/null 2>&1 && rt start pstop >/dev/null 2>&1) || { why="create/start failed"; return 1; }
  wait_status pstop stopped
  rt delete pstop >/dev/null 2>&1
  if rt state pstop >/dev/null 2>&1; then why="container still there after delete with a failing poststop"; return 1; fi
  grep -q poststop "$work/b/pstop/hooks.log" 2>/dev/null || { why="poststop hook did not run"; return 1; }
}
t_config_updates_without_affect() {
  new_bundle cu -- /bin/sh -c 'echo first > /out/marker'
  (cd "$work/b/cu" && rt create cu >/dev/null 2>&1) || { why="create failed"; return 1; }
  cfg cu '.process.args = ["/bin/sh","-c","echo second > /out/marker"] | .hostname = "changed"'
  rt start cu >/dev/null 2>&1 || { why="start failed"; return 1; }
  wait_status cu stopped
  [ "$(cat "$work/b/cu/out/marker" 2>/dev/null)" = first ] || { why="marker: $(cat "$work/b/cu/out/marker" 2>&1)"; return 1; }
}
t_inside() { # name 'jq filter' 'shell script' expected-output
  new_bundle "$1" -- /bin/sh -c "$3"
  [ "$2" = . ] || cfg "$1" "$2"
  run_in "$1"; local rc=$?
  local got; got="$(out_of "$1")"
  [ "$rc" -eq 0 ] && [ "$got" = "$4" ] || { why="exit $rc, output \"$got\", want \"$4\""; return 1; }
}
t_hostname() { t_inside hn '.hostname = "oci-host"' 'hostname' oci-host; }
t_process_user_env_cwd() {
  mkdir -p "$work/rootfs/work"
  t_inside ue '.process.user = {uid:1000, gid:1000, additionalGids:[2000]} | .process.env += ["FOO=bar"] | .process.cwd = "/work"' \
    'echo "$(id -u) $(id -g) $(id -G) $FOO $(pwd)"' "1000 1000 1000 2000 bar /work"
}
t_root_readonly() { t_inside ro '.root.readonly = true' 'if touch /x 2>&-; then echo writable; else echo readonly; fi' readonly; }
t_masked_paths() {
  t_inside mp '.linux.maskedPaths = ["/proc/timer_list", "/sys/firmware"]' \
    '[ -c /proc/timer_list ] && echo file-masked; ls -A /sys/firmware | wc -l' "$(printf 'file-masked\n0')"
}
t_readonly_paths() {
  t_inside rp '.linux.readonlyPaths = ["/proc/sys"]' \
    'if (echo 1 >/proc/sys/kernel/domainname) 2>&-; then echo writable; else echo readonly; fi' readonly
}
t_rlimits() { t_inside rl . 'ulimit -n' 1024; }
t_capabilities() { t_inside cap . 'grep -E "^Cap(Bnd|Eff)" /proc/self/status | tr -s "\t" " "' "$(printf 'CapEff: 00000000a80425fb\nCapBnd: 00000000a80425fb')"; }
t_pid_namespace() { t_inside pidns . 'echo $$' 1; }
t_net_namespace() { t_inside netns . 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "' lo; }
t_sysctl() { t_inside sys '.linux.sysctl = {"net.ipv4.ip_forward":"1"}' 'cat /proc/sys/net/ipv4/ip_forward' 1; }
t_default_devices() {
  t_inside dev . 'for d in null zero full random urandom tty; do [ -c /dev/$d ] || echo missing $d; done; [ -e /dev/ptmx ] || echo no ptmx; echo done' done
}
t_default_devices_usable() {
  t_inside devrw . 'echo x >/dev/null && head -c 4 /dev/zero | wc -c && head -c 4 /dev/urandom | wc -c' "$(printf '4\n4')"
}
t_oom_score_adj() { t_inside oom '.process.oomScoreAdj = 500' 'cat /proc/self/oom_score_adj' 500; }
t_no_new_privileges() { t_inside nnp '.process.noNewPrivileges = true' 'grep NoNewPrivs /proc/self/status | tr -d "\t "' NoNewPrivs:1; }
t_user_namespace() {
  t_inside userns '.linux.namespaces += [{"type":"user"}] | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}] | .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]' \
    'awk "{ print \$1, \$2, \$3 }" /proc/self/uid_map; id -u' "$(printf '0 100000 65536\n0')"
}
t_linux_devices() {
  t_inside ldev '.linux.devices = [{"path":"/dev/fuse","type":"c","major":10,"minor":229,"fileMode":438,"uid":0,"gid":0}] | .linux.resources.devices += [{"allow":true,"type":"c","major":10,"minor":229,"access":"rwm"}]' \
    'stat -c "%t %T %a" /dev/fuse' "a e5 666"
}
t_rootfs_propagation_shared() {
  t_inside rps '.linux.rootfsPropagation = "shared"' 'awk "\$5 == \"/\" { print (\$7 ~ /^shared:/) ? \"shared\" : \"not-shared\" }" /proc/self/mountinfo' shared
}
t_rootfs_propagation_private() {
  t_inside rpp '.linux.rootfsPropagation = "private"' 'awk "\$5 == \"/\" { print (\$7 ~ /^(shared|master):/) ? \"propagating\" : \"private\" }" /proc/self/mountinfo' private
}
t_state_annotations() {
  new_bundle ann -- /bin/sleep 30
  cfg ann '.annotations = {"org.example.key":"value"}'
  (cd "$work/b/ann" && rt create ann >/dev/null 2>&1) || { why="create failed"; return 1; }
  [ "$(state_field ann '.annotations["org.example.key"]')" = value ] || { why="state: $(rt state ann 2>&1)"; return 1; }
}
t_hooks_create_start_container() {
  new_bundle h2 -- /bin/true
  local log="$work/b/h2/hooks.log"
  H=h2
  cfg h2 --argjson a "$(hook createRuntime 0)" --argjson b "$(hook createContainer 0)" \
    '.hooks = {createRuntime: [$a], createContainer: [$b],
      startContainer: [{path:"/bin/sh", args:["sh","-c","echo startContainer $(hostname) >> /out/start.log"]}]}'
  (cd "$work/b/h2" && rt create h2 >/dev/null 2>&1 && rt start h2 >/dev/null 2>&1) || { why="create/start failed: $(cd "$work/b/h2" && rt create h2x 2>&1 | head -c 200)"; return 1; }
  wait_status h2 stopped
  local got; got="$(cat "$log" 2>/dev/null | tr '\n' ';')$(cat "$work/b/h2/out/start.log" 2>/dev/null)"
  [ "$got" = "createRuntime h2 creating;createContainer h2 creating;startContainer mrsdalloway" ] || { why="hooks saw: $got"; return 1; }
}
t_cgroup_cpu() {
  new_bundle cpu -- /bin/sleep 30
  cfg cpu '.linux.resources.cpu = {shares: 512, quota: 50000, period: 100000, cpus: "0"}'
  (cd "$work/b/cpu" && rt create cpu >/dev/null 2>&1) || { why="create failed"; return 1; }
  local cg; cg="$(jq -r .linux.cgroupsPath "$work/b/cpu/config.json")"
  if [ -f "/sys/fs/cgroup/cpu$cg/cpu.shares" ]; then
    local got="$(cat "/sys/fs/cgroup/cpu$cg/cpu.shares") $(cat "/sys/fs/cgroup/cpu$cg/cpu.cfs_quota_us") $(cat "/sys/fs/cgroup/cpu$cg/cpu.cfs_period_us") $(cat "/sys/fs/cgroup/cpuset$cg/cpuset.cpus")"
    [ "$got" = "512 50000 100000 0" ] || { why="shares quota period cpus: $got"; return 1; }
  elif [ -f "/sys/fs/cgroup$cg/cpu.max" ]; then
    [ "$(cat "/sys/fs/cgroup$cg/cpu.max")" = "50000 100000" ] || { why="cpu.max: $(cat "/sys/fs/cgroup$cg/cpu.max")"; return 1; }
  else why="no cpu cgroup files for $cg"; return 1; fi
}
t_mount_tmpfs() {
  t_inside mt '.mounts += [{"destination":"/mnt/t","type":"tmpfs","source":"tmpfs","options":["size=1m","nosuid"]}]' \
    'grep " /mnt/t " /proc/mounts | cut -d" " -f3' tmpfs
}
t_ns_path_join() {
  new_bundle nsa -- /bin/sleep 30
  (cd "$work/b/nsa" && rt create nsa >/dev/null 2>&1 && rt start nsa >/dev/null 2>&1) || { why="container A failed"; return 1; }
  local pid; pid="$(state_field nsa .pid)"
  local want; want="$(readlink "/proc/$pid/ns/net")"
  new_bundle nsb -- /bin/sh -c 'readlink /proc/self/ns/net'
  cfg nsb --arg p "/proc/$pid/ns/net" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)'
  run_in nsb; local rc=$?
  [ "$rc" -eq 0 ] && [ "$(out_of nsb)" = "$want" ] || { why="exit $rc, output \"$(out_of nsb)\", want \"$want\""; return 1; }
}
t_cgroup_memory_limit() {
  new_bundle mem -- /bin/sleep 30
  cfg mem '.linux.resources.memory = {limit: 67108864}'
  (cd "$work/b/mem" && rt create mem >/dev/null 2>&1) || { why="create failed"; return 1; }
  local f cg; cg="$(jq -r .linux.cgroupsPath "$work/b/mem/config.json")"
  for f in "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" "/sys/fs/cgroup$cg/memory.max"; do
    [ -f "$f" ] && { [ "$(cat "$f")" = 67108864 ] && return 0; why="$f = $(cat "$f")"; return 1; }
  done
  why="no memory cgroup file for $cg"; return 1
}
t_cgroup_pids_limit() {
  new_bundle pids -- /bin/sleep 30
  cfg pids '.linux.resources.pids = {limit: 64}'
  (cd "$work/b/pids" && rt create pids >/dev/null 2>&1) || { why="create failed"; return 1; }
  local f cg; cg="$(jq -r .linux.cgroupsPath "$work/b/pids/config.json")"
  for f in "/sys/fs/cgroup/pids$cg/pids.max" "/sys/fs/cgroup$cg/pids.max"; do
    [ -f "$f" ] && { [ "$(cat "$f")" = 64 ] && return 0; why="$f = $(cat "$f")"; return 1; }
  done
  why="no pids cgroup file for $cg"; return 1
}

spec_tests=(
  bundle_validates default_config_run run_exit_code create_state create_not_started
  create_duplicate_id create_bad_bundle start_running start_not_created kill_term kill_numeric
  kill_stopped_errors delete_running_errors delete_stopped state_unknown pid_file
  hooks_state_stdin prestart_fail poststart_fail_continues poststop_fail_deletes
  config_updates_without_affect hostname process_user_env_cwd root_readonly masked_paths
  readonly_paths rlimits capabilities pid_namespace net_namespace sysctl default_devices default_devices_usable
  mount_tmpfs oom_score_adj no_new_privileges user_namespace linux_devices
  rootfs_propagation_shared rootfs_propagation_private state_annotations hooks_create_start_container
  cgroup_cpu ns_path_join cgroup_memory_limit cgroup_pids_limit
)

run_spec() { # runtime
  R="$1"; ST="$work/state-$(basename "$1")"; n=0
  mkdir -p "$ST"
  rm -rf "$work/b"; mkdir -p "$work/b"
  echo "TAP version 13"
  echo "1..${#spec_tests[@]}"
  local t
  for t in "${spec_tests[@]}"; do
    check "$t" "t_$t"
    for id in "${ids[@]:-}"; do [ -n "$id" ] && rt delete --force "$id" >/dev/null 2>&1; done
  done
}

# =============================================================================================
print_table() { # title
  local name p=0 f=0 s=0
  echo
  echo "## $1"
  printf '%-32s %-6s %s\n' test result detail
  for name in "${order[@]}"; do
    printf '%-32s %-6s %s\n' "$name" "${result[$name]}" "$(printf '%s' "${detail[$name]}" | tr '\n' ' ' | head -c 160)"
    case "${result[$name]}" in ok) p=$((p + 1)) ;; fail) f=$((f + 1)) ;; *) s=$((s + 1)) ;; esac
  done
  echo
  if [ "$s" -gt 0 ]; then echo "$p passed, $f failed, $s skipped"; else echo "$p passed, $f failed"; fi
  total_failed=$((total_failed + f))
}

runtimes=()
if [ "$compare" -eq 1 ]; then
  runtimes=("$(resolve_runtime berth)" "$(resolve_runtime "$([ "$runtime_arg" = berth ] && echo runc || echo "$runtime_arg")")")
else
  runtimes=("$(resolve_runtime "$runtime_arg")")
fi
for r in "${runtimes[@]}"; do
  [ -x "$r" ] || { echo "oci-validation: runtime \"$r\" is not an executable (build berth's with: make -C runtime)" >&2; exit 2; }
done
runtimes_used=("${runtimes[@]}")

total_failed=0
build_ocispec || { echo "oci-validation: could not build the config writer against Debian's runtime-tools packages in $work" >&2; exit 2; }
up=""
if find_upstream; then
  suite=upstream
  build_upstream "$up" || { echo "oci-validation: building runtimetest from \"$up\" failed" >&2; exit 2; }
else
  suite=spec
  echo "# upstream validation suite unavailable: $upstream_reason" >&2
  echo "# running berth's spec checks on the runtime-tools default config instead" >&2
  base_rootfs
fi

declare -A summary
for r in "${runtimes[@]}"; do
  order=(); result=(); detail=()
  echo "# runtime: $r ($suite suite)"
  if [ "$suite" = upstream ]; then run_upstream "$r"; else run_spec "$r"; fi
  print_table "$suite suite, runtime $r"
  for name in "${order[@]}"; do summary["$r|$name"]="${result[$name]}"; done
done

if [ "${#runtimes[@]}" -eq 2 ]; then
  a="${runtimes[0]}"; b="${runtimes[1]}"
  echo
  echo "## passes under $(basename "$b"), fails under $(basename "$a")"
  for name in "${order[@]}"; do
    [ "${summary[$b|$name]:-}" = ok ] && [ "${summary[$a|$name]:-}" = fail ] && echo "$name"
  done
fi
[ "$total_failed" -eq 0 ]
