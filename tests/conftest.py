"""Make `ansible_collections.k8s_monitoring.prometheus` importable from the working tree."""

import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / ".collections"

if not (COLLECTIONS / "ansible_collections" / "k8s_monitoring" / "prometheus").exists():
    raise RuntimeError("run `make bootstrap` first: .collections/ links this checkout as the collection")
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

# ansible-core's collection loader makes `ansible_collections.*` importable for
# collections bundled with the `ansible` package (kubernetes.core) as well.
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # noqa: E402

_AnsibleCollectionFinder(paths=[str(COLLECTIONS)])._install()


def pytest_terminal_summary(terminalreporter):
    from tests import figures

    if figures.LINES:
        terminalreporter.section("figures")
        for line in figures.LINES:
            terminalreporter.write_line(line)
