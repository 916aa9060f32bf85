"""A real Kubernetes control plane for the apply-mode tests: etcd and kube-apiserver.

This is what controller-runtime's envtest runs: the real API server with its
real admission, validation (OpenAPI and CEL rules of CRDs), server-side apply,
dry run and RBAC, on a real etcd -- but no kubelet, scheduler or controllers, so
no pod ever runs, Deployments stay at zero replicas ready, Services get no
Endpoints and deleted objects' dependents are not garbage-collected.

The binaries are built from their Go modules by ``tests/controlplane/go.mod``
(``build()``, which ``make controlplane`` and ``scripts/control-plane build``
call) into ``.cache/controlplane/<key>/``; the key is a hash of go.mod and
go.sum, so a changed pin rebuilds and an unchanged one never does.

``ControlPlane`` starts both processes on free 127.0.0.1 ports in a temporary
directory with a TLS serving certificate, service-account keys, RBAC
authorization and two static tokens: ``admin`` (system:masters) and
``restricted`` (may change objects in ``RESTRICTED_NAMESPACE`` only, and read
discovery). It installs CRDs and waits until they are Established, creates
namespaces, writes one kubeconfig per token, and stops both processes by PID.
"""

import datetime
import hashlib
import ipaddress
import json
import os
import pathlib
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request

import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent
GO_MODULE = REPO / "tests" / "controlplane"
CACHE = REPO / ".cache" / "controlplane"
# What `go build` makes, by package path; the binary is named after the last element.
PACKAGES = {
    "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
    "kubectl": "k8s.io/kubernetes/cmd/kubectl",
    "etcd": "go.etcd.io/etcd/server/v3",
}
BINARY_NAMES = {"kube-apiserver": "kube-apiserver", "kubectl": "kubectl", "etcd": "server"}

RESTRICTED_NAMESPACE = "team-restricted"
STARTUP_TIMEOUT = 60.0


class ControlPlaneError(RuntimeError):
    pass


# --- binaries ---------------------------------------------------------------

def kubernetes_version():
    """The k8s.io/kubernetes release go.mod pins, e.g. ``v1.37.2``."""
    for line in (GO_MODULE / "go.mod").read_text().splitlines():
        parts = line.split()
        if parts[:1] == ["k8s.io/kubernetes"] and len(parts) > 1:
            return parts[1]
    raise ControlPlaneError("k8s.io/kubernetes is not required in " + str(GO_MODULE / "go.mod"))


def ldflags():
    """Stamp the release into the binaries: `go build` of a module leaves /version at v0.0.0-master."""
    version = kubernetes_version()
    major, minor = version.lstrip("v").split(".")[:2]
    return " ".join("-X k8s.io/component-base/version.{0}={1}".format(k, v) for k, v in (
        ("gitVersion", version), ("gitMajor", major), ("gitMinor", minor), ("gitTreeState", "clean")))


def build_key():
    digest = hashlib.sha256(ldflags().encode())
    for name in ("go.mod", "go.sum"):
        digest.update((GO_MODULE / name).read_bytes())
    return digest.hexdigest()[:16]


def bin_dir():
    return CACHE / build_key() / "bin"


def binaries():
    """{name: path} of the built binaries, or None when any is missing."""
    directory = bin_dir()
    paths = {name: directory / name for name in PACKAGES}
    return paths if all(path.is_file() for path in paths.values()) else None


def build(log=print):
    """Build kube-apiserver, kubectl and etcd unless this go.mod / go.sum already did."""
    if binaries():
        return binaries()
    go = shutil.which("go")
    if not go:
        raise ControlPlaneError(
            "`go` is not on PATH: install Go (1.26 or newer) to build the control plane, "
            "or run the Molecule `cluster` scenario against a cluster of your own (kind)")
    staging = CACHE / "staging-{0}-{1}".format(build_key(), os.getpid())
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    log("building {0} into {1} (cold: about 7 minutes on 2 cores)".format(", ".join(sorted(PACKAGES)), bin_dir()))
    started = time.monotonic()
    result = subprocess.run([go, "build", "-trimpath", "-ldflags", ldflags(), "-o", str(staging)]
                            + sorted(PACKAGES.values()),
                            cwd=str(GO_MODULE), check=False)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise ControlPlaneError("go build failed (exit {0})".format(result.returncode))
    for name in PACKAGES:
        os.replace(str(staging / BINARY_NAMES[name]), str(staging / name))
    bin_dir().parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(bin_dir(), ignore_errors=True)
    os.replace(str(staging), str(bin_dir()))
    log("built in {0:.0f} s".format(time.monotonic() - started))
    return binaries()


# --- certificates -------------------------------------------------------------

def _certificates(directory):
    """A CA, a serving certificate for 127.0.0.1/localhost, and the service-account key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    def pem_key(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "k8s-monitoring test control plane CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=7))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    serving = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
               .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=7))
               .add_extension(x509.SubjectAlternativeName([
                   x509.DNSName("localhost"), x509.DNSName("kubernetes.default.svc"),
                   x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
               .sign(ca_key, hashes.SHA256()))
    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    files = {
        "ca.crt": ca.public_bytes(serialization.Encoding.PEM),
        "apiserver.crt": serving.public_bytes(serialization.Encoding.PEM),
        "apiserver.key": pem_key(key),
        "sa.key": pem_key(sa_key),
        "sa.pub": sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
    }
    for name, data in files.items():
        path = directory / name
        path.write_bytes(data)
        path.chmod(0o600)
    return {name: directory / name for name in files}


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the control plane ----------------------------------------------------------

class ControlPlane:
    """etcd + kube-apiserver in ``workdir``; ``start()``, then ``stop()`` (always)."""

    def __init__(self, workdir, bins=None):
        self.workdir = pathlib.Path(workdir)
        self.bins = bins or binaries()
        if not self.bins:
            raise ControlPlaneError("the control-plane binaries are not built: run `make controlplane`")
        self.processes = {}
        self.url = None
        self.tokens = {"admin": secrets.token_hex(24), "restricted": secrets.token_hex(24)}
        self.kubeconfigs = {}
        self.files = {}
        self._discovery = {}  # group version -> {kind: (plural, namespaced)}

    # -- processes
    def _spawn(self, name, args):
        log = open(self.workdir / (name + ".log"), "wb")
        try:
            process = subprocess.Popen(args, cwd=str(self.workdir), stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        finally:
            log.close()
        self.processes[name] = process
        (self.workdir / (name + ".pid")).write_text(str(process.pid))
        return process

    def log(self, name):
        path = self.workdir / (name + ".log")
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self, crds=(), namespaces=()):
        started = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.files = _certificates(self.workdir)
        tokens = self.workdir / "tokens.csv"
        tokens.write_text('{0},admin,admin,"system:masters"\n{1},restricted,restricted\n'.format(
            self.tokens["admin"], self.tokens["restricted"]))
        tokens.chmod(0o600)
        etcd_port, etcd_peer, api_port = free_port(), free_port(), free_port()
        self._spawn("etcd", [
            str(self.bins["etcd"]), "--data-dir", str(self.workdir / "etcd"),
            "--listen-client-urls", "http://127.0.0.1:{0}".format(etcd_port),
            "--advertise-client-urls", "http://127.0.0.1:{0}".format(etcd_port),
            "--listen-peer-urls", "http://127.0.0.1:{0}".format(etcd_peer),
            "--initial-advertise-peer-urls", "http://127.0.0.1:{0}".format(etcd_peer),
            "--initial-cluster", "default=http://127.0.0.1:{0}".format(etcd_peer),
            "--unsafe-no-fsync", "--log-level", "warn",
        ])
        self.api_port = api_port
        self._apiserver_args = [
            str(self.bins["kube-apiserver"]),
            "--etcd-servers", "http://127.0.0.1:{0}".format(etcd_port),
            "--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
            "--secure-port", str(api_port),
            "--tls-cert-file", str(self.files["apiserver.crt"]),
            "--tls-private-key-file", str(self.files["apiserver.key"]),
            "--cert-dir", str(self.workdir / "certs"),
            "--token-auth-file", str(tokens),
            "--authorization-mode", "RBAC",
            "--service-account-issuer", "https://kubernetes.default.svc",
            "--service-account-key-file", str(self.files["sa.pub"]),
            "--service-account-signing-key-file", str(self.files["sa.key"]),
            "--service-cluster-ip-range", "10.0.0.0/24",
            "--allow-privileged=true",
            # The `kubernetes` Service's endpoint would be 127.0.0.1, which the reconciler refuses.
            "--endpoint-reconciler-type", "none",
            # No controller manager runs: nothing would create the ServiceAccount tokens
            # the first plugin waits for, nor remove the pvc-protection finalizer the
            # second adds, so a deleted PersistentVolumeClaim would stay Terminating.
            "--disable-admission-plugins", "ServiceAccount,StorageObjectInUseProtection",
            "--v", "0",
        ]
        self._spawn("kube-apiserver", self._apiserver_args)
        self.url = "https://127.0.0.1:{0}".format(api_port)
        self._wait_ready(started)
        for user in self.tokens:
            self.kubeconfigs[user] = self._write_kubeconfig(user)
        self._setup_rbac()
        self.install_crds(crds)
        for namespace in set(namespaces) | {RESTRICTED_NAMESPACE}:
            self.ensure_namespace(namespace)
        self.startup_seconds = time.monotonic() - started
        return self

    def _wait_ready(self, started, timeout=STARTUP_TIMEOUT):
        last = None
        while time.monotonic() - started < timeout:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise ControlPlaneError("{0} exited with {1}:\n{2}".format(
                        name, process.returncode, self.log(name)[-4000:]))
            try:
                status, body = self.request("GET", "/readyz")
                if status == 200:
                    return
                last = "{0} {1}".format(status, body[:300])
            except OSError as err:  # not listening yet
                last = str(err)
            time.sleep(0.2)
        raise ControlPlaneError("kube-apiserver not ready after {0:.0f} s ({1}):\n{2}".format(
            timeout, last, self.log("kube-apiserver")[-4000:]))

    def stop_apiserver(self):
        """Stop only kube-apiserver (etcd keeps the data); ``start_apiserver()`` brings it back."""
        _terminate(self.processes.pop("kube-apiserver"))

    def start_apiserver(self):
        self._spawn("kube-apiserver", self._apiserver_args)
        self._wait_ready(time.monotonic())

    def stop(self):
        for name in ("kube-apiserver", "etcd"):
            process = self.processes.pop(name, None)
            if process is not None:
                _terminate(process)

    # -- API access (admin) through the standard library: no client to configure
    def request(self, method, path, body=None, token=None, content_type="application/json"):
        context = ssl.create_default_context(cafile=str(self.files["ca.crt"]))
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", "Bearer " + (token or self.tokens["admin"]))
        if data is not None:
            request.add_header("Content-Type", content_type)
        # 429 "storage is (re)initializing": a CRD's watch cache warms up after it is
        # Established; the server says when to retry. Bounded: 20 tries.
        for _attempt in range(20):
            try:
                with urllib.request.urlopen(request, timeout=30, context=context) as response:
                    return response.status, response.read().decode()
            except urllib.error.HTTPError as err:
                if err.code != 429:
                    return err.code, err.read().decode(errors="replace")
                time.sleep(float(err.headers.get("Retry-After") or 1))
        return err.code, err.read().decode(errors="replace")

    def apply(self, obj, manager="test-setup", force=True):
        """Server-side apply of one object as admin; returns the stored object."""
        api_version, kind = obj["apiVersion"], obj["kind"]
        path = self.path_of(api_version, kind, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        status, body = self.request("PATCH", "{0}?fieldManager={1}&force={2}".format(
            path, manager, "true" if force else "false"), obj, content_type="application/apply-patch+yaml")
        if status >= 300:
            raise ControlPlaneError("apply {0} {1}: {2} {3}".format(kind, obj["metadata"]["name"], status, body[:500]))
        return json.loads(body)

    def get(self, api_version, kind, name, namespace=None):
        status, body = self.request("GET", self.path_of(api_version, kind, namespace, name))
        if status == 404:
            return None
        if status != 200:
            raise ControlPlaneError("get {0} {1}: {2} {3}".format(kind, name, status, body[:300]))
        return json.loads(body)

    def list(self, api_version, kind, namespace=None, label_selector=None):
        path = self.path_of(api_version, kind, namespace)
        if label_selector:
            path += "?labelSelector=" + urllib.request.quote(label_selector)
        status, body = self.request("GET", path)
        if status != 200:
            raise ControlPlaneError("list {0}: {1} {2}".format(kind, status, body[:300]))
        items = json.loads(body)["items"]
        for item in items:  # a list response leaves them out of its items
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def delete(self, api_version, kind, name, namespace=None):
        status, body = self.request("DELETE", self.path_of(api_version, kind, namespace, name))
        if status not in (200, 202, 404):
            raise ControlPlaneError("delete {0} {1}: {2} {3}".format(kind, name, status, body[:300]))

    def path_of(self, api_version, kind, namespace=None, name=None):
        plural, namespaced = self.resource(api_version, kind)
        base = "/api/v1" if api_version == "v1" else "/apis/" + api_version
        path = base + ("/namespaces/" + namespace if namespaced and namespace else "") + "/" + plural
        return path + ("/" + name if name else "")

    def resource(self, api_version, kind):
        """(plural, namespaced) from discovery, cached per group version."""
        cache = self._discovery
        if api_version not in cache:
            base = "/api/v1" if api_version == "v1" else "/apis/" + api_version
            status, body = self.request("GET", base)
            if status != 200:
                raise ControlPlaneError("{0} is not served: {1}".format(api_version, status))
            cache[api_version] = {r["kind"]: (r["name"], r["namespaced"])
                                  for r in json.loads(body)["resources"] if "/" not in r["name"]}
        if kind not in cache[api_version]:
            raise ControlPlaneError("{0} {1} is not served".format(api_version, kind))
        return cache[api_version][kind]

    def server_version(self):
        return json.loads(self.request("GET", "/version")[1])["gitVersion"]

    def ensure_namespace(self, name):
        self.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def install_crds(self, paths, timeout=30.0):
        """Apply the CRDs in ``paths`` (files with one or more documents) and wait until Established."""
        names = []
        for path in paths:
            for doc in yaml.safe_load_all(pathlib.Path(path).read_text()):
                if doc and doc.get("kind") == "CustomResourceDefinition":
                    self.apply(doc)
                    names.append(doc["metadata"]["name"])
        deadline = time.monotonic() + timeout
        pending = list(names)
        while pending and time.monotonic() < deadline:
            pending = [n for n in pending if not _established(
                self.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", n))]
            if pending:
                time.sleep(0.2)
        if pending:
            raise ControlPlaneError("CRDs not Established after {0:.0f} s: {1}".format(timeout, pending))
        self.forget_discovery()
        return names

    def forget_discovery(self):
        """Drop what discovery said: after CRDs were added or removed."""
        self._discovery = {}

    def _setup_rbac(self):
        # The restricted user may do anything in one namespace and nothing elsewhere
        # (beyond what every authenticated user may: discovery, self reviews).
        self.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": {"name": "k8s-monitoring-test-namespace-admin"},
                    "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]})
        self.ensure_namespace(RESTRICTED_NAMESPACE)
        self.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                    "metadata": {"name": "restricted-user", "namespace": RESTRICTED_NAMESPACE},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                "name": "k8s-monitoring-test-namespace-admin"},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "restricted"}]})

    def _write_kubeconfig(self, user):
        path = self.workdir / "kubeconfig-{0}.yaml".format(user)
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "test-" + user,
            "clusters": [{"name": "test", "cluster": {
                "server": self.url, "certificate-authority": str(self.files["ca.crt"])}}],
            "users": [{"name": user, "user": {"token": self.tokens[user]}}],
            "contexts": [{"name": "test-" + user, "context": {"cluster": "test", "user": user}}],
        }
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        path.chmod(0o600)
        return path

    def state(self):
        """What `scripts/control-plane down` needs to stop this control plane from another process."""
        return {"workdir": str(self.workdir), "url": self.url,
                "pids": {name: process.pid for name, process in self.processes.items()},
                "kubeconfigs": {user: str(path) for user, path in self.kubeconfigs.items()}}


def _established(crd):
    return bool(crd) and any(c.get("type") == "Established" and c.get("status") == "True"
                             for c in crd.get("status", {}).get("conditions", []))


def _terminate(process, grace=10.0):
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=grace)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_pids(pids, grace=10.0):
    """Stop processes by PID (their own process groups) from a process that did not start them."""
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + grace
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


# --- scripts/control-plane ------------------------------------------------------

# The namespaces the example inventory's roles write to, plus the pushers' one.
EXAMPLE_NAMESPACES = ("d8-monitoring", "d8-operator-prometheus", "d8-ingress-nginx", "kube-prometheus-pushgateway", "monitoring",
                      "verrazzano-monitoring", "verrazzano-system", "verrazzano-ingress-nginx", "istio-system",
                      "ingress-nginx", "logging", "batch")
STATE_DIR = REPO / "build" / "control-plane"


def crd_files(directory):
    return sorted(p for p in pathlib.Path(directory).glob("*.yaml")
                  if "kind: CustomResourceDefinition" in p.read_text())


def main(argv=None):
    import argparse

    from tests.schema import crds_dir

    parser = argparse.ArgumentParser(prog="scripts/control-plane", description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("command", choices=["build", "up", "down", "status"])
    args = parser.parse_args(argv)
    state_file = STATE_DIR / "state.json"
    if args.command == "build":
        print(build(log=lambda line: print(line, flush=True))["kube-apiserver"].parent)
        return 0
    if args.command == "down":
        if not state_file.exists():
            print("no control plane is running from {0}".format(STATE_DIR))
            return 0
        state = json.loads(state_file.read_text())
        stop_pids(list(state["pids"].values()))
        shutil.rmtree(STATE_DIR, ignore_errors=True)
        print("stopped (PIDs {0})".format(", ".join(str(p) for p in state["pids"].values())))
        return 0
    if args.command == "status":
        print(state_file.read_text() if state_file.exists() else "not running")
        return 0
    if state_file.exists():
        state = json.loads(state_file.read_text())
        if all(_alive(pid) for pid in state["pids"].values()):
            print(state["kubeconfigs"]["admin"])
            return 0
        stop_pids(list(state["pids"].values()))  # left over from an interrupted run
        shutil.rmtree(STATE_DIR, ignore_errors=True)
    directory = crds_dir()
    if directory is None:
        raise SystemExit("CRD schemas not found: put shared/ beside the repository or set K8S_MONITORING_CRDS_DIR")
    plane = ControlPlane(STATE_DIR)
    try:
        plane.start(crds=crd_files(directory), namespaces=EXAMPLE_NAMESPACES)
    except BaseException:
        plane.stop()
        raise
    state_file.write_text(json.dumps(plane.state(), indent=2))
    print(plane.kubeconfigs["admin"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
