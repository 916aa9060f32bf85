"""bench/htpasswd_bench.py measures one hash check per request, with the hashes the role writes.

nginx runs the access phase (auth_basic) again after an internal redirect, so a path
that nginx redirects internally (``/`` to its index file) is checked twice per request
and the right-password figure comes out halved. The bench's own nginx configuration is
run here with a log of ``$request_uri`` and ``$uri``: they differ after an internal redirect.
"""

import pathlib
import sys

from tests.integration import services
from tests.playbook import REPO

sys.path.insert(0, str(REPO / "bench"))

import htpasswd_bench  # noqa: E402  pylint: disable=wrong-import-position


def test_bench_requests_a_path_nginx_serves_without_internal_redirect(tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    (www / htpasswd_bench.PATH.lstrip("/")).write_text("ok\n")
    generated = {"username": "bench", "password": htpasswd_bench.PASSWORD, "generated": True}
    auth = tmp_path / "auth"
    auth.write_text(htpasswd_bench.htpasswd_text([generated], None, None))
    assert auth.read_text().startswith("bench:$apr1$")  # the role's scheme for generated passwords
    port = services.free_port()
    uri_log = tmp_path / "uri.log"
    server = "log_format bench_uri '$request_uri $uri';\naccess_log {0} bench_uri;\n{1}".format(
        uri_log, htpasswd_bench.server_block(port, str(www), str(auth)))
    nginx = services.start_nginx(str(tmp_path / "nginx"), server, port, scheme="http",
                                 ready_path=htpasswd_bench.PATH)
    try:
        url = "http://127.0.0.1:{0}{1}".format(port, htpasswd_bench.PATH)
        assert htpasswd_bench.status_of(url, htpasswd_bench.PASSWORD) == 200
        assert htpasswd_bench.status_of(url, htpasswd_bench.WRONG) == 401
    finally:
        nginx.stop()
    requests = [line.split() for line in pathlib.Path(uri_log).read_text().splitlines()]
    assert requests and all(request_uri == uri for request_uri, uri in requests), requests
