#!/usr/bin/env bash
# The documents lead somewhere: every relative link and image of README.md, docs/ and bench/
# resolves, #anchors included (tests/check_links.py, which is itself checked on a broken page);
# no page points at text that is not there ("above", a README snippet, README.md for what
# docs/programs.md defines); every sweep option is in docs/pipeline.md; the README's assignment
# section gives each question's section of the report and the one command that checks a machine.
# lane: beside (no network, no process of the programs: files and tools only); tests/run.sh runs it beside the others
set -uo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC1091
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1
scratch_dir
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3

out=$("$PY" tests/check_links.py README.md docs/*.md bench/README.md 2>&1); rc=$?
is "$rc:$out" "0:" "every relative link and image in README.md, docs/ and bench/README.md resolves, anchors too"

# the checker finds what it must: a missing file, a missing anchor, an image inside a link
mkdir -p "$TMP/docs"
cat >"$TMP/docs/page.md" <<'MD'
# A page
## Two hosts: the server, elsewhere
[ok](#two-hosts-the-server-elsewhere) [bad anchor](#nowhere) [gone](../nope.md)
[![img](pic.png)](page.md) `[in code](../nope.md)`
```
[in a fence](../nope.md)
```
MD
out=$("$PY" tests/check_links.py "$TMP/docs/page.md" 2>&1); rc=$?
is "$rc $(wc -l <<<"$out")" "1 3" "check_links.py on a broken page: exit 1, one line per broken link, code left alone"
like "$out" "#nowhere: no heading" "it names a missing anchor"
like "$out" "nope.md: no such file" "it names a missing file"
like "$out" "pic.png: no such file" "it finds an image inside a link"

docs=$(cat README.md docs/*.md)
is "$(grep -c 'README snippet' <<<"$docs")" 0 "no 'README snippet' left in the documents"
is "$(grep -cE 'see (result lines )?above|\((see )?above\)|" below' docs/*.md | awk -F: '{ s += $2 } END { print s }')" 0 \
  "no pointer to text 'above' or a section 'below' that is not linked"
help=$("$BIN/A1_client" --help 2>&1)
like "$help" "fields are defined in docs/programs.md" "the clients' --help names docs/programs.md for the result fields"
missing=""
for o in $(bash run_experiments.sh --help | grep -oE -- '--[a-z][a-z-]+' | sort -u); do
  grep -q -- "$o" docs/pipeline.md || missing+=" $o"
done
is "$missing" "" "docs/pipeline.md names every option of run_experiments.sh --help"
readme=$(cat README.md)
for q in 1 2 3 4 5 6; do
  like "$readme" "\\(plots/report\\.md#q$q-" "README: question $q links to its section of the report"
done
like "$readme" "perf stat -e cycles,L1-dcache-load-misses" "README: the one command that checks a machine for counters"
like "$readme" "\\./plots\\.py runs/" "README: how to plot a run of one's own"
check "t_docs.sh is shellcheck-clean" shellcheck tests/t_docs.sh
done_testing
