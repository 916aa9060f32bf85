"""Print what `make run` rendered: per cluster and role, the objects by kind."""

import collections
import pathlib
import sys

import yaml


def summarize(root):
    root = pathlib.Path(root)
    clusters = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if not clusters:
        print("Nothing rendered under {0}.".format(root))
        return 1
    total = 0
    for cluster in clusters:
        print("{0}/".format(cluster))
        for role_dir in sorted(p for p in cluster.iterdir() if p.is_dir()):
            kinds = collections.Counter()
            for path in sorted(role_dir.glob("*.yaml")):
                if path.name != "kustomization.yaml":
                    kinds[yaml.safe_load(path.read_text())["kind"]] += 1
            total += sum(kinds.values())
            listing = ", ".join("{0} {1}".format(n, k) for k, n in sorted(kinds.items()))
            print("  {0:<28} {1}".format(role_dir.name, listing or "(nothing)"))
        outside = root.parent / "outside" / cluster.name
        if outside.is_dir():
            print("  {0:<28} {1}".format("outside side", ", ".join(str(p) for p in sorted(outside.iterdir()))))
        credentials = root.parent / "credentials" / cluster.name
        if credentials.is_dir():
            print("  {0:<28} {1} (generated passwords, mode 0600; not printed)".format("credentials", credentials))
    print("{0} objects for {1} clusters. Apply one with: kubectl apply -k {2}/<cluster>".format(
        total, len(clusters), root))
    return 0


if __name__ == "__main__":
    sys.exit(summarize(sys.argv[1] if len(sys.argv) > 1 else "build/rendered"))
