"""What each basic-auth hash scheme costs, measured with real nginx and the real module code.

1. Requests per second through a real nginx (one worker, loopback, plain HTTP so
   that only the hash check is measured) with ``auth_basic`` reading the htpasswd
   file the collection builds, for each scheme and cost, with the right and a wrong
   password (wrk from Debian), beside the floor: the same nginx without auth in the
   same run. nginx checks the hash on every request inside its worker, so this is
   the ceiling per ingress worker, and the CPU an attacker can burn with wrong
   passwords. The first row is a generated password as the role hashes it.

   The requested path is a file served as is: ``/`` would be redirected internally
   to the index file, and nginx runs the access phase (the hash check) again after
   an internal redirect, so a right password was checked twice per request.
2. The idempotent re-run of the hashing module (every password verified against the
   current hash, nothing re-hashed) with 1, 10 and 100 users per scheme, and the
   first run (everything hashed): seconds, and milliseconds per user.

Usage: .venv/bin/python bench/htpasswd_bench.py [--duration 3] [--connections 4]
Prints a table; nothing is asserted (figures, not tests).
"""

import argparse
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [REPO, os.path.join(REPO, ".collections")]

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import htpasswd_users  # noqa: E402
from tests.integration import services  # noqa: E402

PASSWORD = "Bench-Generated-Password-0123456789ab"
WRONG = "Bench-Wrong-Password-0123456789abcdefg"
# (label, scheme, cost, generated): a generated password gets the module's generated_scheme.
GENERATED = ("generated", None, None, True)
CASES = [GENERATED, ("bcrypt", "bcrypt", 4, False), ("bcrypt", "bcrypt", 5, False), ("bcrypt", "bcrypt", 6, False),
         ("bcrypt", "bcrypt", 8, False), ("bcrypt", "bcrypt", 10, False), ("bcrypt", "bcrypt", 12, False),
         ("sha512", "sha512", 5000, False), ("sha512", "sha512", 1000, False), ("apr1", "apr1", None, False)]
PATH = "/ok.txt"  # a file, not "/" (see the module docstring)


def params(users, scheme, cost, current=None):
    return dict(name="bench", namespace="bench", users=users, scheme=scheme, cost=cost, format="auth-file",
                min_password_length=16, current_secret=None, current_secret_file=None, current_content=current,
                component="bench", variable_name="users")


def htpasswd_text(users, scheme, cost):
    secret = htpasswd_users.build(params(users, scheme or "bcrypt", cost))["secret"]
    return base64.b64decode(secret["data"]["auth"]).decode()


def server_block(port, www, auth=None):
    """nginx serving ``www`` on ``port``, behind basic auth with the htpasswd file ``auth`` if given."""
    check = 'auth_basic "bench";\n    auth_basic_user_file {0};'.format(auth) if auth else ""
    return """
server {{
  listen 127.0.0.1:{port};
  location / {{
    {check}
    root {www};
  }}
}}""".format(port=port, check=check, www=www)


def start_case(case_dir, htpasswd=None):
    """(nginx, url of PATH) for one case; the caller stops nginx."""
    www = os.path.join(case_dir, "www")
    os.makedirs(www)
    with open(os.path.join(www, PATH.lstrip("/")), "w") as handle:
        handle.write("ok\n")
    auth = None
    if htpasswd is not None:
        auth = os.path.join(case_dir, "auth")
        with open(auth, "w") as handle:
            handle.write(htpasswd)
    port = services.free_port()
    nginx = services.start_nginx(case_dir, server_block(port, www, auth), port, scheme="http", ready_path=PATH)
    return nginx, "http://127.0.0.1:{0}{1}".format(port, PATH)


def status_of(url, password):
    header = "Basic " + base64.b64encode("bench:{0}".format(password).encode()).decode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Authorization": header}), timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as err:
        return err.code


def wrk(url, password, duration, connections):
    header = "Authorization: Basic " + base64.b64encode("bench:{0}".format(password).encode()).decode()
    out = subprocess.run(["wrk", "-t1", "-c{0}".format(connections), "-d{0}s".format(duration), "-H", header, url],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                         timeout=duration + 60, check=False).stdout
    match = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    if not match:
        raise RuntimeError("wrk gave no figure:\n" + out)
    return float(match.group(1))


def nginx_figures(workdir, duration, connections):
    """(floor, rows): requests/s without auth, and (label, scheme, cost, right, wrong) per case."""
    nginx, url = start_case(os.path.join(workdir, "floor"))
    try:
        floor = wrk(url, PASSWORD, duration, connections)
    finally:
        nginx.stop()
    rows = []
    for label, scheme, cost, generated in CASES:
        user = {"username": "bench", "password": PASSWORD, "generated": generated}
        text = htpasswd_text([user], scheme, cost)
        if generated:
            scheme, cost = htpasswd_users.scheme_of(text.strip().split(":", 1)[1])
        nginx, url = start_case(os.path.join(workdir, "{0}-{1}-{2}".format(label, scheme, cost)), text)
        try:
            right_status, wrong_status = status_of(url, PASSWORD), status_of(url, WRONG)
            if (right_status, wrong_status) != (200, 401):
                raise RuntimeError("{0}: nginx answered {1}/{2}, expected 200/401".format(
                    scheme, right_status, wrong_status))
            rows.append((label, scheme, cost, wrk(url, PASSWORD, duration, connections),
                         wrk(url, WRONG, duration, connections)))
        finally:
            nginx.stop()
    return floor, rows


def rerun_figures():
    rows = []
    for scheme, cost in [("bcrypt", 5), ("bcrypt", 10), ("sha512", 5000), ("sha512", 1000), ("apr1", None)]:
        for count in (1, 10, 100):
            users = [{"username": "user{0}".format(i), "password": PASSWORD + str(i)} for i in range(count)]
            start = time.perf_counter()
            first = htpasswd_users.build(params(users, scheme, cost))
            hashed = time.perf_counter() - start
            current = base64.b64decode(first["secret"]["data"]["auth"]).decode()
            start = time.perf_counter()
            again = htpasswd_users.build(params(users, scheme, cost, current))
            rerun = time.perf_counter() - start
            assert again["changed"] is False and again["changed_users"] == []
            rows.append((scheme, cost, count, hashed, rerun))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds of wrk per case (default 3)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections (default 4)")
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not shutil.which(tool) and not shutil.which(tool, path="/usr/sbin:/usr/bin"):
            sys.exit("{0} is not installed (Debian packages wrk, nginx)".format(tool))

    workdir = tempfile.mkdtemp(prefix="htpasswd-bench-")
    try:
        print("nginx basic auth, 1 worker, loopback, GET {0}, wrk -t1 -c{1} -d{2}s (requests/s)".format(
            PATH, args.connections, args.duration))
        floor, rows = nginx_figures(workdir, args.duration, args.connections)
        print("{0:<10} {1:<7} {2:>6} {3:>10} {4:>10} {5:>14}".format(
            "password", "scheme", "cost", "right pw", "wrong pw", "right / floor"))
        print("{0:<10} {1:<7} {2:>6} {3:>10.0f} {4:>10} {5:>14}".format("(floor)", "no auth", "-", floor, "-", "100%"))
        for label, scheme, cost, right, wrong in rows:
            print("{0:<10} {1:<7} {2:>6} {3:>10.0f} {4:>10.0f} {5:>13.1f}%".format(
                "generated" if label == "generated" else "chosen", scheme, "-" if cost is None else cost,
                right, wrong, 100.0 * right / floor))
        print()
        print("hashing module: first run (hash all) and idempotent re-run (verify all), seconds")
        print("{0:<8} {1:>6} {2:>6} {3:>10} {4:>10} {5:>14}".format(
            "scheme", "cost", "users", "first", "re-run", "re-run/user ms"))
        for scheme, cost, count, hashed, rerun in rerun_figures():
            print("{0:<8} {1:>6} {2:>6} {3:>10.3f} {4:>10.3f} {5:>14.2f}".format(
                scheme, "-" if cost is None else cost, count, hashed, rerun, rerun * 1000.0 / count))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
