"""The collection tarball holds what a user of the installed collection needs, and it works.

`ansible-galaxy collection build` is run for real; its file list is compared with
the checkout's user-facing files. Developer files (tests, Molecule, bench,
scripts, the Makefile, lint configs, test requirements, the checkout's site.yml
shim and example inventory) are kept out by galaxy.yml's build_ignore.

Then the tarball is installed as users install it, beside only the collections
galaxy.yml declares (copied from the `ansible` package: Galaxy is unreachable
here, and a Galaxy server that refuses connections proves nothing else is
fetched), and the installed site playbook renders the example fleet, present and
absent, with the newest ansible-core and with the oldest one meta/runtime.yml
claims (.venv-floor, built by `make test`).
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.parse

import pytest
import yaml

from tests.playbook import example_clusters, site_roles

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


ROLE_STATES = tuple(role + "_state" for role in site_roles())


def declared_dependencies():
    return sorted(yaml.safe_load((REPO / "galaxy.yml").read_text())["dependencies"])


def floor_ansible_playbook():
    path = REPO / ".venv-floor" / "bin" / "ansible-playbook"
    if path.exists():
        return path
    message = ".venv-floor (the oldest ansible-core meta/runtime.yml claims) is not built; `make test` builds it"
    if os.environ.get("K8S_MONITORING_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory):
    """A collections path holding the tarball and the declared dependencies, nothing else."""
    root = tmp_path_factory.mktemp("installed")
    for name in declared_dependencies():
        namespace, collection = name.split(".")
        source = subprocess.run([str(BIN / "python"), "-c", "import ansible_collections.{0} as c; "
                                 "print(c.__path__[0])".format(name)], stdout=subprocess.PIPE, universal_newlines=True,
                                check=True, timeout=60).stdout.strip()
        shutil.copytree(source, str(root / "ansible_collections" / namespace / collection),
                        ignore=shutil.ignore_patterns("tests", "docs"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(root), ANSIBLE_GALAXY_SERVER="http://127.0.0.1:9/",
               ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1")
    env.pop("ANSIBLE_CONFIG", None)
    result = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", "-p", str(root), str(tarball)],
                            cwd=str(root), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            universal_newlines=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout
    return root


@pytest.mark.parametrize("ansible", ["newest", "floor"])
def test_the_installed_tarball_renders_the_example_fleet_with_declared_dependencies_only(installed, tmp_path, ansible):
    playbook = BIN / "ansible-playbook" if ansible == "newest" else floor_ansible_playbook()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(installed), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
               ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_CONFIG", None)  # the checkout's ansible.cfg points at the checkout
    out = tmp_path / "rendered"

    def site(*extra):
        command = [str(playbook), "k8s_monitoring.prometheus.site", "-i", str(REPO / "inventory" / "example"),
                   "-e", "k8s_monitoring_mode=render", "-e", "k8s_monitoring_render_dir={0}/{{{{ inventory_hostname }}}}".format(out),
                   "-e", "prometheus_external_access_password_dir={0}".format(tmp_path / "credentials")]
        for argument in extra:
            command += ["-e", argument]
        result = subprocess.run(command, cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True, timeout=600, check=False)
        assert result.returncode == 0, result.stdout[-4000:]
        return result

    site()
    assert sorted(p.name for p in out.iterdir()) == example_clusters()
    assert list(out.glob("*/prometheus_external_access/*.ingress.*.yaml"))
    site(*("{0}=absent".format(state) for state in ROLE_STATES))
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.yaml")) == []
