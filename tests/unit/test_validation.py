import pytest

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import validation as v


@pytest.mark.parametrize("value", ["monitoring", "d8-monitoring", "a", "a" * 63])
def test_dns1123_label_accepts(value):
    assert v.dns1123_label("x_namespace", value) == value


@pytest.mark.parametrize("value", ["", "Monitoring", "-a", "a-", "a_b", "a.b", "a" * 64, 5, None])
def test_dns1123_label_rejects_and_names_variable(value):
    with pytest.raises(v.ValidationError) as err:
        v.dns1123_label("x_namespace", value)
    assert str(err.value).startswith("x_namespace: ")


@pytest.mark.parametrize("value", ["prometheus.example.com", "*.example.com", "a-b.c.io"])
def test_hostname_accepts(value):
    assert v.hostname("h", value, allow_wildcard=True) == value


@pytest.mark.parametrize("value", ["localhost", "Prometheus.example.com", "a..b", "-a.b", "a_b.c", "*.example.com",
                                   "http://a.b", "a.b/"])
def test_hostname_rejects(value):
    with pytest.raises(v.ValidationError, match="^h: "):
        v.hostname("h", value)


@pytest.mark.parametrize("value", ["app.kubernetes.io/name", "app", "a_b.c-d", "example.com/x"])
def test_label_key_accepts(value):
    assert v.label_key("k", value) == value


@pytest.mark.parametrize("value", ["", "/x", "Example.com/x", "a/", "-a", "a" * 64, "a b"])
def test_label_key_rejects(value):
    with pytest.raises(v.ValidationError):
        v.label_key("k", value)


def test_label_value_allows_empty_but_not_spaces():
    assert v.label_value("k", "") == ""
    with pytest.raises(v.ValidationError):
        v.label_value("k", "a b")
    with pytest.raises(v.ValidationError):
        v.label_value("k", 5)


def test_labels_rejects_empty_selector_unless_allowed():
    with pytest.raises(v.ValidationError, match="empty selector matches everything"):
        v.labels("sel", {})
    assert v.labels("sel", {}, allow_empty=True) == {}
    with pytest.raises(v.ValidationError, match=r"^sel\.app: "):
        v.labels("sel", {"app": "bad value"})


@pytest.mark.parametrize("value,expected", [("10.0.0.0/8", "10.0.0.0/8"), ("192.0.2.7", "192.0.2.7/32"),
                                            ("2001:db8::/32", "2001:db8::/32")])
def test_cidr_accepts(value, expected):
    assert v.cidr("allow", value) == expected


@pytest.mark.parametrize("value", ["10.0.0.1/8", "300.0.0.0/8", "10.0.0.0/33", "any", ""])
def test_cidr_rejects(value):
    with pytest.raises(v.ValidationError, match="^allow: "):
        v.cidr("allow", value)


@pytest.mark.parametrize("value", [1, 9090, 65535, "9100", "http-metrics", "web"])
def test_port_accepts(value):
    v.port("p", value)


@pytest.mark.parametrize("value", [0, 65536, -1, True, "0", "http_metrics", "a--b", "abcdefghijklmnop", "", None, 1.5])
def test_port_rejects(value):
    with pytest.raises(v.ValidationError, match="^p: "):
        v.port("p", value)


def test_secret_values_are_not_echoed():
    err = v.ValidationError("x_password", "must not be empty", "hunter2", show_value=False)
    assert "hunter2" not in str(err)
