#!/usr/bin/env bash
# Build the collection's HTML docs into build/docs/html (`make docs`).
#
# antsibull-docs renders every module, plugin and role (from meta/argument_specs.yml)
# of the installed collection as RST; the README and the role READMEs are copied
# beside them, keeping their relative paths so their links between each other
# resolve, and Sphinx (scripts/docs/conf.py, MyST for Markdown) builds the site.
# Warnings are errors: a broken page fails the build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${ROOT}/build/docs"
RST="${OUT}/rst"

rm -rf "${OUT}"
mkdir -p "${RST}"
chmod 700 "${RST}"  # antsibull-docs refuses a destination others may write to

# antsibull-docs copies dependencies found in a git work tree with `git ls-files`;
# kubernetes.core lives in .venv, inside this (ignoring) work tree, so stop git's
# search at the checkout's root.
GIT_CEILING_DIRECTORIES="${ROOT}" antsibull-docs collection --use-current --squash-hierarchy \
    --dest-dir "${RST}" k8s_monitoring.prometheus

mkdir -p "${RST}/guides"
cp "${ROOT}/README.md" "${RST}/guides/README.md"
cp -r "${ROOT}/docs" "${RST}/guides/docs"  # DEVELOPING.md, and the images the READMEs show
cp "${ROOT}/CHANGELOG.rst" "${RST}/guides/CHANGELOG.rst"
guides=(guides/README)
for readme in "${ROOT}"/roles/*/README.md; do
    role="$(basename "$(dirname "${readme}")")"
    mkdir -p "${RST}/guides/roles/${role}"
    cp "${readme}" "${RST}/guides/roles/${role}/README.md"
    guides+=("guides/roles/${role}/README")
done
guides+=(guides/docs/DEVELOPING guides/CHANGELOG)
{
    printf '\n.. toctree::\n   :maxdepth: 1\n   :caption: Guides\n\n'
    printf '   %s\n' "${guides[@]}"
} >> "${RST}/index.rst"

sphinx-build -q -W --keep-going -b html -c "${ROOT}/scripts/docs" "${RST}" "${OUT}/html"
echo "Docs: ${OUT}/html/index.html"
