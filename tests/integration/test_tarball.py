"""The collection tarball holds what a user of the installed collection needs, and only that.

`ansible-galaxy collection build` is run for real; its file list is compared with
the checkout's user-facing files. Developer files (tests, Molecule, bench,
scripts, the Makefile, lint configs, test requirements, the checkout's site.yml
shim and example inventory) are kept out by galaxy.yml's build_ignore.
"""

import json
import pathlib
import re
import subprocess
import sys
import tarfile
import urllib.parse

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
BIN = pathlib.Path(sys.executable).parent

# What users need: the content, the metadata ansible-builder reads
# (meta/execution-environment.yml names requirements.txt and bindep.txt), the docs
# and the released changelog.
USER_DIRECTORIES = ("plugins", "roles", "playbooks", "meta", "docs")
USER_FILES = ("README.md", "LICENSE", "CHANGELOG.rst", "requirements.txt", "bindep.txt",
              "changelogs/changelog.yaml", "changelogs/config.yaml")
GENERATED = ("MANIFEST.json", "FILES.json")
# The tarball of the first release, tests and developer tools included.
PREVIOUS_SIZE = 261 * 1000
# Names reserved for documentation and tests (RFC 2606, RFC 6761): a URL that points nowhere.
RESERVED_HOST = re.compile(r"(^|\.)(example(\.com|\.net|\.org)?|invalid|test|localhost)$")


def user_files():
    files = set(USER_FILES)
    for directory in USER_DIRECTORIES:
        for path in (REPO / directory).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                files.add(str(path.relative_to(REPO)))
    return files


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    output = tmp_path_factory.mktemp("tarball")
    result = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(output), str(REPO)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stdout
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    return output / "k8s_monitoring-prometheus-{0}.tar.gz".format(version)


def test_tarball_holds_exactly_the_user_files(tarball):
    with tarfile.open(str(tarball)) as archive:
        members = {m.name for m in archive.getmembers() if m.isfile()}
    shipped = members - set(GENERATED)
    expected = user_files()
    assert sorted(shipped - expected) == [], "developer files in the tarball"
    assert sorted(expected - shipped) == [], "user files missing from the tarball"
    assert set(GENERATED) <= members


def test_tarball_is_smaller_than_the_first_release(tarball):
    size = tarball.stat().st_size
    assert size < PREVIOUS_SIZE, "{0} bytes".format(size)


def test_metadata_urls_are_real_or_absent(tarball):
    with tarfile.open(str(tarball)) as archive:
        info = json.load(archive.extractfile("MANIFEST.json"))["collection_info"]
    for key in ("repository", "documentation", "homepage", "issues"):
        host = urllib.parse.urlsplit(info.get(key) or "").hostname or ""
        assert not RESERVED_HOST.search(host), "{0}: {1}".format(key, info[key])
