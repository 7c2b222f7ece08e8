#!/usr/bin/env bash
# Makes sure the project-local virtualenv <repo>/.venv exists and holds exactly
# what tests/emulator/requirements.txt pins (moto, boto3, pytest, cfn-lint,
# cargo-lambda, ...), including the example model's pins that it pulls in with
# `-r` (examples/diabetes-regression/requirements.txt: scikit-learn, gunicorn).
#
# - Idempotent: the venv is stamped with the SHA-256 of both requirements
#   files; when the stamp matches, nothing is done and nothing is printed.
# - A change to either file (or a broken venv) reinstalls.
# - Safe to run concurrently (parallel test binaries): installers serialise on
#   an flock, and a waiter re-checks the stamp once it holds the lock.
# - Progress goes to stderr, and only while installing; stdout stays empty.
#
# Environment: PYTHON (default python3) is the interpreter the venv is made from.
set -euo pipefail

# Linux only (flock, setsid, GNU sha256sum and friends, bash 4): every make
# target that tests or demonstrates, and scripts/demo.sh, come through here
# first, so another system stops now with why rather than half-way.
if [[ "$(uname -s)" != Linux ]]; then
    echo "ensure-venv: the project's scripts run on Linux only, and this is $(uname -s) (README, \"Try it locally\"): use a Linux machine, VM or container" >&2
    exit 1
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/.venv"
requirements="$here/requirements.txt"
stamp="$venv/.requirements.sha256"
python="${PYTHON:-python3}"

# Every file requirements.txt includes with `-r`: a change to any of them must
# reinstall. Hashed by path relative to the repository, so the stamp does not
# depend on where the checkout is.
included=(examples/diabetes-regression/requirements.txt)

want="$(cd "$root" && sha256sum "${requirements#"$root"/}" "${included[@]}" | sha256sum | cut -d' ' -f1)"

up_to_date() {
    [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] \
        && "$venv/bin/python" -c 'import sys' >/dev/null 2>&1
}

# Fast path, no lock: already installed.
if up_to_date; then
    exit 0
fi

mkdir -p "$venv"
# The lock file lives inside the venv directory (git-ignored with it); the venv
# is never recreated with --clear, so the file is never unlinked under a holder.
exec 9>"$venv/.lock"
flock 9

# Another caller may have finished the install while this one waited.
if up_to_date; then
    exit 0
fi

echo "ensure-venv: installing $requirements into $venv ..." >&2
rm -f "$stamp"
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    "$python" -m venv "$venv" >&2
fi
# Keeps the venv ignored even where the repository's .gitignore is not in effect.
printf '*\n' >"$venv/.gitignore"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --requirement "$requirements" >&2
printf '%s\n' "$want" >"$stamp.tmp"
mv -f "$stamp.tmp" "$stamp"
echo "ensure-venv: done" >&2
