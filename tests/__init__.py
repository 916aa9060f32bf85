"""The collection's tests and the developer tools that share their code (`python -m tests.<tool>`).

Importing this package makes `ansible_collections.k8s_monitoring.prometheus` importable
from the working tree (through the .collections/ link `make bootstrap` creates), and,
through ansible-core's collection loader, the collections the `ansible` package
bundles (kubernetes.core).
"""

import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
COLLECTIONS = REPO / ".collections"

if (COLLECTIONS / "ansible_collections" / "k8s_monitoring" / "prometheus").exists():
    if str(COLLECTIONS) not in sys.path:
        sys.path.insert(0, str(COLLECTIONS))
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder  # noqa: E402

    _AnsibleCollectionFinder(paths=[str(COLLECTIONS)])._install()
