"""The AWX execution environment: ansible-builder build context, offline.

`ansible-builder create` turns execution-environment.yml into a build context
(Containerfile + _build/). These tests run it for real on a copy of the files it
references, then replay the two image stages that matter without a container
engine: the Galaxy stage's install of the collection tarball, and the builder
stage's introspection (ansible-builder's own introspect.py) that merges the
collection's meta/execution-environment.yml requirements into the image's.
`ansible-builder build` itself needs podman or a Docker engine (and the base
image from quay.io); it runs only where K8S_MONITORING_EE_BUILD=1 says so.
"""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
BIN = pathlib.Path(sys.executable).parent
EE_FILE = REPO / "execution-environment.yml"
IMAGE_TAG = "k8s-monitoring-prometheus-ee:test"


def run(command, cwd=None, timeout=120, env=None):
    result = subprocess.run([str(part) for part in command], cwd=str(cwd or REPO), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, "{0} failed ({1}):\n{2}".format(command, result.returncode, result.stdout)
    return result.stdout


def requirement_names(lines):
    """Distribution names (lower case, `-` for `_`) of pip requirement lines, comments skipped."""
    names = []
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def pinned(requirements_file, name):
    for line in requirements_file.read_text().splitlines():
        match = re.match(r"^{0}==(\S+)".format(re.escape(name)), line.strip())
        if match:
            return match.group(1)
    raise AssertionError("{0} is not pinned in {1}".format(name, requirements_file))


@pytest.fixture(scope="module")
def definition():
    return yaml.safe_load(EE_FILE.read_text())


@pytest.fixture(scope="module")
def galaxy_version():
    return yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]


@pytest.fixture(scope="module")
def build_context(tmp_path_factory, definition):
    """Build the collection tarball and run `ansible-builder create` on a copy of the EE files.

    The copy keeps the test from writing into the checkout's build/ while other runs use it;
    every file the definition names is copied from the checkout, so a missing one fails here.
    """
    project = tmp_path_factory.mktemp("ee-project")
    shutil.copy(str(EE_FILE), str(project / EE_FILE.name))
    for key in ("galaxy", "python", "system"):
        shutil.copy(str(REPO / definition["dependencies"][key]), str(project / definition["dependencies"][key]))
    run([BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", project / "build" / "collection"])
    context = project / "context"
    run([BIN / "ansible-builder", "create", "--file", project / EE_FILE.name, "--context", context,
         "--output-filename", "Containerfile"], cwd=project)
    return context


def test_definition_is_version_3_with_pinned_core_and_runner(definition):
    assert definition["version"] == 3
    deps = definition["dependencies"]
    # The image runs the same ansible-core and ansible-runner the tests here run.
    assert deps["ansible_core"]["package_pip"] == "ansible-core==" + pinned(REPO / "requirements-test.txt", "ansible-core")
    assert deps["ansible_runner"]["package_pip"] == "ansible-runner==" + pinned(REPO / "requirements-test.txt", "ansible-runner")
    assert "passlib" in deps["exclude"]["python"]


def test_containerfile_uses_the_requirements_and_installs_the_collection(build_context, definition):
    containerfile = (build_context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="{0}"'.format(definition["images"]["base_image"]["name"]) in containerfile
    assert 'ARG PYCMD="/usr/bin/python3"' in containerfile
    assert 'ARG PYPKG="python3 python3-pip"' in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core==' in containerfile
    assert "ansible-runner==" in containerfile
    assert "COPY _build/requirements.txt requirements.txt" in containerfile
    assert "COPY _build/bindep.txt bindep.txt" in containerfile
    assert "COPY _build/exclude-requirements.txt exclude-requirements.txt" in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert ("--user-pip=requirements.txt --exclude-pip-reqs=exclude-requirements.txt --user-bindep=bindep.txt"
            in containerfile)
    # The collection itself is installed in the Galaxy stage, whose /usr/share/ansible
    # the builder stage introspects and the final stage copies.
    galaxy_stage = containerfile.split("FROM base AS galaxy", 1)[1].split("FROM base AS builder", 1)[0]
    assert "/build/collections/k8s_monitoring-prometheus-*.tar.gz" in galaxy_stage
    assert "COPY --from=galaxy /usr/share/ansible /usr/share/ansible" in containerfile
    assert 'ENTRYPOINT ["/opt/builder/bin/entrypoint", "dumb-init"]' in containerfile


def test_build_context_requirements(build_context, galaxy_version):
    build = build_context / "_build"
    python = (build / "requirements.txt").read_text().splitlines()
    names = requirement_names(python)
    for needed in ("kubernetes", "libpass", "bcrypt", "pyyaml", "prometheus-client"):
        assert needed in names, "{0} missing from the image's requirements".format(needed)
    assert "passlib" not in names
    assert any(line.startswith("bcrypt==5.") for line in python)
    assert requirement_names((build / "exclude-requirements.txt").read_text().splitlines()) == ["passlib"]

    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert "kubernetes.core" in [entry["name"] for entry in galaxy["collections"]]
    assert "gcc [compile]" in (build / "bindep.txt").read_text()
    assert (build / "collections" / "k8s_monitoring-prometheus-{0}.tar.gz".format(galaxy_version)).is_file()
    assert (build / "scripts" / "introspect.py").is_file()


def test_collection_tarball_carries_its_ee_metadata_and_nothing_local(build_context, galaxy_version):
    tarball = build_context / "_build" / "collections" / "k8s_monitoring-prometheus-{0}.tar.gz".format(galaxy_version)
    with tarfile.open(str(tarball)) as archive:
        members = archive.getnames()
        meta = yaml.safe_load(archive.extractfile("meta/execution-environment.yml").read())
    assert meta == {"version": 1, "dependencies": {"python": "requirements.txt", "system": "bindep.txt"}}
    assert "requirements.txt" in members and "bindep.txt" in members
    assert "plugins/modules/render_manifests.py" in members
    local = (".venv", ".git", "build", ".ansible", ".pytest_cache", "tests/output")
    leaked = [m for m in members if any(m == p or m.startswith(p + "/") for p in local)]
    assert not leaked, leaked


def test_collection_tarball_leaves_out_the_checkout_link(build_context, galaxy_version):
    tarball = build_context / "_build" / "collections" / "k8s_monitoring-prometheus-{0}.tar.gz".format(galaxy_version)
    with tarfile.open(str(tarball)) as archive:
        links = [m.name for m in archive.getmembers() if m.name.startswith(".collections")]
    assert not links, links


def test_galaxy_and_builder_stages_offline(build_context, tmp_path, galaxy_version):
    """Replay the Galaxy stage's tarball install and the builder stage's introspection.

    kubernetes.core comes from the `ansible` package here (the image gets it from
    Galaxy through requirements.yml); installing the tarball must then not need Galaxy.
    """
    collections = tmp_path / "usr-share-ansible-collections"
    target = collections / "ansible_collections" / "kubernetes" / "core"
    target.parent.mkdir(parents=True)
    source = pathlib.Path(run([BIN / "python", "-c",
                               "import ansible_collections.kubernetes.core as c; print(c.__path__[0])"]).strip())
    shutil.copytree(str(source), str(target), ignore=shutil.ignore_patterns("tests", "docs"))

    build = build_context / "_build"
    tarball = build / "collections" / "k8s_monitoring-prometheus-{0}.tar.gz".format(galaxy_version)
    # As in the image: the install path is the only collections path (the checkout's
    # ansible.cfg and .collections would make the collection look installed already),
    # and a Galaxy server that refuses connections proves nothing is fetched.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1",
               ANSIBLE_GALAXY_SERVER="http://127.0.0.1:9/")
    env.pop("ANSIBLE_CONFIG", None)
    run([BIN / "ansible-galaxy", "collection", "install", "--collections-path", collections, tarball],
        cwd=tmp_path, env=env)
    installed = collections / "ansible_collections" / "k8s_monitoring" / "prometheus"
    assert (installed / "MANIFEST.json").is_file()
    assert (installed / "meta" / "execution-environment.yml").is_file()

    # The exact introspect call of the Containerfile's builder stage.
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    run([BIN / "python", build / "scripts" / "introspect.py", "introspect", collections,
         "--user-pip=" + str(build / "requirements.txt"),
         "--exclude-pip-reqs=" + str(build / "exclude-requirements.txt"),
         "--user-bindep=" + str(build / "bindep.txt"),
         "--write-pip=" + str(pip_out), "--write-bindep=" + str(bindep_out)])
    merged = pip_out.read_text().splitlines()
    names = requirement_names(merged)
    assert "libpass" in names and "passlib" not in names
    assert "kubernetes" in names and "bcrypt" in names
    # introspect tags each line with the collections that asked for it.
    ours = [line for line in merged if "k8s_monitoring.prometheus" in line]
    assert any(line.startswith("kubernetes==37.") for line in ours), merged
    assert any(line.startswith("jsonpatch") for line in merged), "kubernetes.core's own requirements were not merged"
    assert "gcc [compile]" in bindep_out.read_text()


def container_engine():
    if shutil.which("podman"):
        return "podman"
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=20, check=False)
        if probe.returncode == 0:
            return "docker"
    return None


@pytest.mark.skipif(os.environ.get("K8S_MONITORING_EE_BUILD") != "1",
                    reason="ansible-builder build needs podman or a running Docker engine and the base image from "
                           "quay.io; neither is available on these machines. Set K8S_MONITORING_EE_BUILD=1 where they are.")
def test_image_builds_and_runs_the_collection(build_context):
    engine = container_engine()
    if engine is None:
        pytest.fail("K8S_MONITORING_EE_BUILD=1 but neither podman nor a running Docker engine was found")
    run([engine, "build", "--tag", IMAGE_TAG, "--file", build_context / "Containerfile", build_context], timeout=3600)
    out = run([engine, "run", "--rm", IMAGE_TAG, "ansible-doc", "-t", "module", "k8s_monitoring.prometheus.render_manifests"])
    assert "render_manifests" in out
    out = run([engine, "run", "--rm", IMAGE_TAG, "python3", "-c",
               "import kubernetes, passlib.hash as h; print(h.bcrypt.verify('x', h.bcrypt.hash('x')))"])
    assert out.strip().endswith("True")
