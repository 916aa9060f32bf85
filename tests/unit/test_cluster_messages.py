import pytest

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import cluster


class ResourceNotFoundError(Exception):
    pass


def test_missing_kubeconfig_file_is_named(tmp_path):
    message = cluster.connection_settings_problem({"kubeconfig": str(tmp_path / "nope.yaml")}, environ={})
    assert str(tmp_path / "nope.yaml") in message and "does not exist" in message


def test_existing_kubeconfig_is_fine(tmp_path):
    path = tmp_path / "config"
    path.write_text("apiVersion: v1\n")
    assert cluster.connection_settings_problem({"kubeconfig": str(path)}, environ={}) is None


def test_no_connection_at_all_says_what_to_set(tmp_path):
    message = cluster.connection_settings_problem({}, environ={"HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "x")})
    assert "k8s_monitoring_kubeconfig" in message and "K8S_AUTH_HOST" in message and "render" in message


@pytest.mark.parametrize("environ", [{"K8S_AUTH_HOST": "https://127.0.0.1:6443"}, {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}])
def test_awx_environment_or_in_cluster_is_a_connection(environ):
    assert cluster.connection_settings_problem({}, environ=environ) is None


def test_missing_apis_are_listed_with_their_source():
    def lookup(kind, api_version):
        if kind == "PodMonitor":
            raise ResourceNotFoundError(kind)
        return object()
    apis = [{"kind": "PodMonitor", "api_version": "monitoring.coreos.com/v1"},
            {"kind": "NetworkPolicy", "api_version": "networking.k8s.io/v1"}]
    missing = cluster.find_missing_apis(lookup, apis)
    assert missing == [apis[0]]
    message = cluster.missing_api_message(missing)
    assert "PodMonitor (monitoring.coreos.com/v1)" in message and "prometheus-operator" in message
    assert message.endswith("Nothing was changed.")


def test_other_lookup_errors_propagate():
    def lookup(kind, api_version):
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        cluster.find_missing_apis(lookup, [{"kind": "X", "api_version": "v1"}])


class ApiException(Exception):
    def __init__(self, status):
        super().__init__("({0})".format(status))
        self.status = status


@pytest.mark.parametrize("err,expected", [
    (ApiException(401), "refused the credentials (HTTP 401)"),
    (ApiException(403), "refused the credentials (HTTP 403)"),
    (Exception("HTTPSConnectionPool: Max retries exceeded ... Connection refused"), "did not answer (connection refused)"),
    (Exception("SSLError(... CERTIFICATE_VERIFY_FAILED ...)"), "TLS certificate"),
])
def test_api_errors_become_one_sentence(err, expected):
    message = cluster.api_error_message(err, "https://127.0.0.1:1")
    assert expected in message and "\n" not in message
