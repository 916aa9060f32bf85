"""network-config-analyzer (``nca``, IBM) as the tests and ``make graph`` run it.

nca computes which connections a set of NetworkPolicies allows between the pods of
a described cluster. It lives in its own venv (it pins PyYAML): ``$NCA``, else
.venv-nca/bin/nca, else /tmp/nca-venv/bin/nca, else ``nca`` on PATH.
"""

import os
import pathlib
import re
import shutil
import subprocess

REPO = pathlib.Path(__file__).resolve().parent.parent

# One line of `--output_format txt_no_fw_rules`: "<src> => <dst> : <connections>".
CONNECTION = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conn>.*)$")
PORT_GROUP = re.compile(r"\{protocols:(?P<protocols>[^}]*?)(?:,dst_ports:(?P<ports>[^}]*))?\}")


def nca_executable():
    """Path of the nca executable, or None. ``$NCA`` must be executable when set."""
    configured = os.environ.get("NCA")
    if configured:
        if not os.access(configured, os.X_OK):
            raise RuntimeError("NCA={0} is not an executable network-config-analyzer".format(configured))
        return configured
    for candidate in (REPO / ".venv-nca" / "bin" / "nca", pathlib.Path("/tmp/nca-venv/bin/nca")):
        if os.access(str(candidate), os.X_OK):
            return str(candidate)
    return shutil.which("nca")


def parse_connection(text):
    """nca's connection text -> None (all connections) or {protocol: set of ports, or None for all ports}."""
    if text.strip() == "All connections":
        return None
    allowed = {}
    for match in PORT_GROUP.finditer(text):
        ports = None
        if match.group("ports"):
            ports = set()
            for part in match.group("ports").split(","):
                low, dummy, high = part.strip().partition("-")
                ports.update(range(int(low), int(high or low) + 1))
        for protocol in match.group("protocols").split(","):
            current = allowed.setdefault(protocol.strip(), set())
            if ports is None or current is None:
                allowed[protocol.strip()] = None
            else:
                current.update(ports)
    if not allowed:
        raise ValueError("cannot parse nca connection {0!r}".format(text))
    return allowed


def parse_connectivity(output):
    """nca's txt_no_fw_rules connectivity map -> ({(src, dst): allowed}, [warning lines]).

    Endpoints keep nca's spelling: ``namespace/name[Kind]`` for workloads, an
    address range such as ``10.20.0.0-10.20.0.15`` for sources outside the pods.
    """
    connections, warnings = {}, []
    for line in output.splitlines():
        if "Warning:" in line:
            warnings.append(line)
        match = CONNECTION.match(line)
        if match:
            connections[(match.group("src"), match.group("dst"))] = parse_connection(match.group("conn"))
    return connections, warnings


def connectivity(resource_files, timeout=120):
    """Run nca's connectivity map over resource files (policies, namespaces, pods and workloads)."""
    nca = nca_executable()
    if not nca:
        raise RuntimeError("network-config-analyzer not found: set NCA, or run `make test` (it builds .venv-nca "
                           "from requirements-nca.txt)")
    command = [nca, "--connectivity"]
    for path in resource_files:
        command += ["--resource_list", str(path)]
    result = subprocess.run(command + ["--output_format", "txt_no_fw_rules"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError("nca failed ({0}):\n{1}".format(result.returncode, result.stdout))
    connections, warnings = parse_connectivity(result.stdout)
    if not connections:
        raise RuntimeError("nca reported no connections at all (it read no pods):\n" + result.stdout)
    return connections, warnings
