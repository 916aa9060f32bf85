"""Validate every rendered manifest below a directory: kubernetes-validate --strict
for core objects, the real CRD schemas (../shared/crds or $K8S_MONITORING_CRDS_DIR)
for custom resources. Prints the count; exits 1 on the first invalid object."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from tests.schema import crds_dir, validate_rendered_tree  # noqa: E402


def main(root):
    if crds_dir() is None:
        print("CRD schemas not found: put shared/ beside the repository or set K8S_MONITORING_CRDS_DIR")
        return 1
    try:
        count = validate_rendered_tree(root)
    except AssertionError as err:
        print("invalid manifest: {0}".format(err))
        return 1
    if count == 0:
        print("no manifests found below {0}".format(root))
        return 1
    print("{0} manifests valid (kubernetes-validate --strict, CRD schemas)".format(count))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
