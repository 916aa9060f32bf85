"""Session fixtures: the real control plane (etcd + kube-apiserver), the rendered example fleet.

Without the built binaries or the CRDs, tests that need it skip and say how to
get them; under `make test` (K8S_MONITORING_REQUIRE_SERVICES=1) that is a
failure, so CI can never pass by skipping.
"""

import os
import signal

import pytest

from tests import control_plane as cp
from tests import figures
from tests.integration.services import start_prometheus, start_pushgateway
from tests.playbook import run_playbook
from tests.schema import crds_dir


def _unavailable(message):
    if os.environ.get("K8S_MONITORING_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def control_plane_crds():
    """The CRD files to install; skips (fails under `make test`) without binaries or CRDs."""
    if not cp.binaries():
        _unavailable("the control-plane binaries are not built: run `make controlplane` (needs Go; "
                     "about 7 minutes cold) or use the Molecule `cluster` scenario against a cluster of your own")
    directory = crds_dir()
    if directory is None:
        _unavailable("CRD schemas not found: put the shared/ folder beside the repository or set "
                     "K8S_MONITORING_CRDS_DIR")
    return cp.crd_files(directory)


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory):
    crds = control_plane_crds()
    plane = cp.ControlPlane(tmp_path_factory.mktemp("control-plane"))
    # pytest runs finalizers on Ctrl-C (KeyboardInterrupt) but not on SIGTERM: make
    # SIGTERM an interrupt too, so a killed test run still stops both processes.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        plane.start(crds=crds, namespaces=cp.EXAMPLE_NAMESPACES)
        figures.record("control plane: etcd + kube-apiserver {0} up with {1} CRDs in {2:.1f} s".format(
            plane.server_version(), len(crds), plane.startup_seconds))
        yield plane
    finally:
        plane.stop()
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A real Pushgateway scraped by a real Prometheus through two jobs, honor_labels true and false."""
    workdir = tmp_path_factory.mktemp("pushgateway")
    pushgateway = start_pushgateway(str(workdir / "pg"))
    target = pushgateway.url.split("://")[1]
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s"},
        "scrape_configs": [
            {"job_name": "pg-honor", "honor_labels": True, "static_configs": [{"targets": [target]}]},
            {"job_name": "pg-plain", "honor_labels": False, "static_configs": [{"targets": [target]}]},
        ],
    }
    try:
        prometheus = start_prometheus(str(workdir / "prom"), config)
    except BaseException:
        pushgateway.stop()
        raise
    yield pushgateway, prometheus
    prometheus.stop()
    pushgateway.stop()


@pytest.fixture(scope="session")
def example_fleet(tmp_path_factory):
    """`make run`'s render of the example inventory: {cluster: rendered directory}."""
    out = tmp_path_factory.mktemp("example-fleet")
    run_playbook("site.yml", "-i", "inventory/example",
                 extra_vars={"k8s_monitoring_mode": "render",
                             "k8s_monitoring_render_dir": str(out) + "/{{ inventory_hostname }}"})
    return dict((cluster.name, cluster) for cluster in sorted(out.iterdir()) if cluster.is_dir())


def _interrupt(signum, frame):
    raise KeyboardInterrupt("SIGTERM")
