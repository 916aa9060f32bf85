#!/usr/bin/env bash
# Run `ansible-test sanity` on the collection, offline apart from PyPI.
#
#   scripts/ansible-test-sanity.sh [extra ansible-test sanity options, e.g. --test pylint]
#
# ansible-test only runs from a directory named .../ansible_collections/<ns>/<name>,
# so the collection's files (tracked, plus untracked files git does not ignore) are
# copied afresh into build/ansible_collections/k8s_monitoring/prometheus each run.
#
# --venv (not --local): every sanity test gets its own virtualenv with the exact
# tool versions this ansible-test release pins, so the results do not depend on
# what happens to be installed in .venv. The virtualenvs are cached under
# ~/.ansible/test/venv and their packages come from PyPI, which is reachable here.
# What is not reachable is ci-files.testing.ansible.com, where ansible-test fetches
# get-pip.py to bootstrap pip into each new virtualenv. It first looks for a cached
# ~/.ansible/test/cache/get_pip_<version>.py, so this script puts a stand-in there
# that installs pip from the matching pip wheel (downloaded from PyPI beside it).
#
# All default sanity tests run; none needs the network beyond PyPI, and the whole
# run takes about a minute once the virtualenvs are cached.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${ROOT}/.venv/bin"
PYTHON_VERSION="${ANSIBLE_TEST_PYTHON:-3.12}"
DEST="${ROOT}/build/ansible_collections/k8s_monitoring/prometheus"
CACHE="${HOME}/.ansible/test/cache"

if [[ ! -x "${BIN}/ansible-test" ]]; then
    echo "ansible-test not found in ${BIN}; run 'make bootstrap' first." >&2
    exit 1
fi

# The pip version ansible-test bootstraps into its virtualenvs (25.2 for ansible-core 2.21).
PIP_VERSION="$("${BIN}/python" - <<'EOF'
import inspect
import re

from ansible_test._internal import python_requirements

match = re.search(r"pip='([0-9.]+)'", inspect.getsource(python_requirements.get_venv_packages))
print(match.group(1) if match else "")
EOF
)"
if [[ -z "${PIP_VERSION}" ]]; then
    echo "Could not find the pip version ansible-test bootstraps; see ansible_test/_internal/python_requirements.py." >&2
    exit 1
fi

seed_pip_bootstrap() {
    local stand_in="${CACHE}/get_pip_${PIP_VERSION//./_}.py"
    local wheel="${CACHE}/pip-${PIP_VERSION}-py3-none-any.whl"
    mkdir -p "${CACHE}"
    if [[ ! -f "${wheel}" ]]; then
        "${BIN}/pip" download --quiet --no-deps --only-binary=:all: --dest "${CACHE}" "pip==${PIP_VERSION}"
    fi
    if [[ -f "${stand_in}" ]] && ! grep -q 'k8s_monitoring.prometheus stand-in' "${stand_in}"; then
        return 0  # a real get-pip.py downloaded on a machine with internet: keep it
    fi
    cat > "${stand_in}.tmp" <<EOF
# k8s_monitoring.prometheus stand-in for get-pip.py ${PIP_VERSION} (scripts/ansible-test-sanity.sh).
# ansible-test runs this with the pip options and packages to install (pip==${PIP_VERSION});
# it runs pip straight from the wheel beside it and installs from that directory only.
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "pip-${PIP_VERSION}-py3-none-any.whl"))

from pip._internal.cli.main import main  # noqa: E402

# get-pip.py options that pip itself does not know.
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(main(["install", "--no-index", "--find-links", HERE, "--upgrade", "--force-reinstall"] + args))
EOF
    mv "${stand_in}.tmp" "${stand_in}"
}

copy_collection() {
    rm -rf "${ROOT}/build/ansible_collections"  # also drops links to dependencies no longer listed
    mkdir -p "${DEST}"
    (
        cd "${ROOT}"
        # -c also lists tracked files deleted in the work tree; copy only what exists.
        git ls-files -z -co --exclude-standard |
            while IFS= read -r -d '' path; do
                if [[ -e "${path}" || -L "${path}" ]]; then printf '%s\0' "${path}"; fi
            done |
            tar --null --files-from=- -cf - |
            tar -xf - -C "${DEST}"
    )
    # ansible-test lists the files of the nearest git work tree above the collection;
    # without a repository of its own the copy would be seen as ignored files of
    # this checkout (build/ is ignored) and every test would be skipped. An empty
    # repository makes it list the copied files as untracked, which it includes.
    git -C "${DEST}" init --quiet
}

# ansible-test only sees collections in the same ansible_collections tree as the one
# under test; the dependencies in galaxy.yml (kubernetes.core: its doc fragment and
# module_utils) are linked in from wherever Ansible finds them, usually the `ansible`
# package in .venv.
link_dependencies() {
    "${BIN}/python" - "${ROOT}/galaxy.yml" "$(dirname "$(dirname "${DEST}")")" <<'EOF'
import os
import sys
import sysconfig

import yaml

galaxy_file, tree = sys.argv[1:3]
with open(galaxy_file) as handle:
    dependencies = yaml.safe_load(handle).get("dependencies") or {}

search = [p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p]
search += [os.path.expanduser("~/.ansible/collections"), "/usr/share/ansible/collections",
           sysconfig.get_paths()["purelib"]]
missing = []
for fqcn in sorted(dependencies):
    namespace, name = fqcn.split(".")
    found = None
    for base in search:
        for candidate in (os.path.join(base, "ansible_collections", namespace, name),
                          os.path.join(base, namespace, name)):
            if os.path.isfile(os.path.join(candidate, "MANIFEST.json")) or os.path.isfile(
                    os.path.join(candidate, "galaxy.yml")):
                found = candidate
                break
        if found:
            break
    if not found:
        missing.append(fqcn)
        continue
    link = os.path.join(tree, namespace, name)
    os.makedirs(os.path.dirname(link), exist_ok=True)
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.realpath(found), link)
if missing:
    sys.exit("Collections this collection depends on are not installed: %s (run 'make bootstrap')." % ", ".join(missing))
EOF
}

# One run at a time per checkout: a second run would delete the copy under the first.
mkdir -p "${ROOT}/build"
exec 9> "${ROOT}/build/.ansible-test-sanity.lock"
if ! flock --wait 1800 9; then
    echo "Another ansible-test sanity run in this checkout did not finish within 30 minutes." >&2
    exit 1
fi

seed_pip_bootstrap
copy_collection
link_dependencies

cd "${DEST}"
export PATH="${BIN}:${PATH}"
# A caller's ANSIBLE_COLLECTIONS_PATH (the Makefile points it at .collections) would
# make the collection appear twice; ansible-test sets up its own paths.
unset ANSIBLE_COLLECTIONS_PATH
exec "${BIN}/ansible-test" sanity --venv --python "${PYTHON_VERSION}" --color no "$@"
