"""The PodMonitor relabelings, run by a real Prometheus (Debian package).

Prometheus gets static targets that carry the ``__meta_kubernetes_pod_*`` labels
its Kubernetes pod discovery would give each container port, and the PodMonitor's
``relabelings`` translated to ``relabel_configs``. The targets API then says which
targets were kept or dropped, and with which address and labels.

Only the role's own relabelings are tested. For a PodMonitor the prometheus-operator
adds relabelings of its own around them (job label, ``namespace``/``pod``/``container``
labels, keeping by port when the endpoint names one, and -- ``filterRunning``, on by
default -- dropping pods in phase Failed or Succeeded); those are the operator's
business and need a cluster to observe.

No scrape leaves the machine: every job sends its scrapes through a proxy URL on a
closed loopback port, and the scrape interval is an hour.
"""

import json
import re
import time
import urllib.request

import pytest

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import istio_metrics
from tests.integration.services import free_port, start_prometheus
from tests.unit.test_istio_metrics import CLIENT, params

CAMEL_TO_SNAKE = {"sourceLabels": "source_labels", "targetLabel": "target_label", "regex": "regex",
                  "replacement": "replacement", "separator": "separator", "modulus": "modulus", "action": "action"}


def relabel_configs(relabelings):
    """PodMonitor ``relabelings`` (camelCase) as Prometheus ``relabel_configs`` (snake_case)."""
    configs = []
    for rule in relabelings:
        unknown = set(rule) - set(CAMEL_TO_SNAKE)
        assert not unknown, "no translation for {0}".format(unknown)
        config = dict((CAMEL_TO_SNAKE[k], v) for k, v in rule.items())
        config["action"] = config.get("action", "replace").lower()
        configs.append(config)
    return configs


def pod_port(namespace, pod, ip, container, port_name, port, phase="Running", labels=None, annotations=None):
    """One static target as Kubernetes pod discovery would produce it for a container port."""
    host = "[{0}]".format(ip) if ":" in ip else ip
    meta = {
        "__meta_kubernetes_namespace": namespace,
        "__meta_kubernetes_pod_name": pod,
        "__meta_kubernetes_pod_ip": ip,
        "__meta_kubernetes_pod_phase": phase,
        "__meta_kubernetes_pod_ready": "true",
        "__meta_kubernetes_pod_node_name": "node-1",
        "__meta_kubernetes_pod_container_name": container,
        "__meta_kubernetes_pod_container_port_name": port_name,
        "__meta_kubernetes_pod_container_port_number": str(port),
        "__meta_kubernetes_pod_container_port_protocol": "TCP",
        "test_case": pod + "/" + port_name,
    }
    for key, value in (labels or {}).items():
        key = re.sub("[^A-Za-z0-9_]", "_", key)  # as discovery sanitizes label names
        meta["__meta_kubernetes_pod_label_" + key] = value
        meta["__meta_kubernetes_pod_labelpresent_" + key] = "true"
    for key, value in (annotations or {}).items():
        meta["__meta_kubernetes_pod_annotation_" + key] = value
        meta["__meta_kubernetes_pod_annotationpresent_" + key] = "true"
    return {"targets": ["{0}:{1}".format(host, port)], "labels": meta}


MERGED = {"prometheus_io_scrape": "true", "prometheus_io_port": "15020", "prometheus_io_path": "/stats/prometheus"}
APP_LABELS = {"app": "shop", "version": "v1", "security.istio.io/tlsMode": "istio"}

# Two sidecar pods (IPv4 and IPv6), an application port, a finished Job pod, a
# pending pod, a pod whose envoy port was declared on another number, and a pod
# that opted out of the prometheus.io annotations.
TARGETS = [
    pod_port("shop", "shop-7d9f", "10.1.0.5", "istio-proxy", "http-envoy-prom", 15090,
             labels=APP_LABELS, annotations=MERGED),
    pod_port("shop", "shop-7d9f", "10.1.0.5", "shop", "http", 8080, labels=APP_LABELS, annotations=MERGED),
    pod_port("pay", "pay-5c4b", "2001:db8::7", "istio-proxy", "http-envoy-prom", 15090,
             labels={"app": "pay"}, annotations=MERGED),
    pod_port("batch", "report-28a1", "10.1.0.9", "istio-proxy", "http-envoy-prom", 15090, phase="Succeeded",
             labels={"job-name": "report"}, annotations=MERGED),
    pod_port("batch", "warmup-1f2e", "10.1.0.10", "istio-proxy", "http-envoy-prom", 15090, phase="Pending",
             labels={"app": "warmup"}, annotations=MERGED),
    pod_port("legacy", "legacy-0", "10.1.0.11", "istio-proxy", "tcp-envoy-prom", 15020, labels={"app": "legacy"}),
]


def envoy_relabelings(variant):
    manifests = istio_metrics.build(params(clients=[CLIENT], pod_monitor_variant=variant))["manifests"]
    monitor = [m for m in manifests if m["kind"] == "PodMonitor"][0]
    return monitor["spec"]["podMetricsEndpoints"][0]["relabelings"]


# Istio's samples/addons/extras/prometheus-operator.yaml keeps on the annotation
# without a regex; the role sets regex "true". This job runs Istio's form.
def upstream_istio_relabelings():
    rules = [dict(r) for r in envoy_relabelings("istio_merged")]
    for rule in rules:
        if rule.get("sourceLabels") == ["__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape"]:
            del rule["regex"]
    return rules


def job(name, relabelings, proxy_port):
    return {
        "job_name": name,
        "scrape_interval": "1h",
        "scrape_timeout": "1s",
        "metrics_path": "/stats/prometheus",
        "proxy_url": "http://127.0.0.1:{0}".format(proxy_port),
        "static_configs": TARGETS,
        "relabel_configs": relabel_configs(relabelings),
    }


def targets_api(prometheus, expected, timeout=30.0):
    """{job: {"kept": {case: labels}, "dropped": [case]}} once every target is reported."""
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(prometheus.url + "/api/v1/targets?state=any", timeout=5) as response:
            data = json.load(response)["data"]
        if len(data["activeTargets"]) + len(data["droppedTargets"]) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    result = {}
    for target in data["activeTargets"]:
        jobs = result.setdefault(target["scrapePool"], {"kept": {}, "dropped": []})
        # The final labels carry the test case; Prometheus 2.42 reports the discoveredLabels
        # of an active target as altered by the relabeling itself, so they are not used.
        jobs["kept"][target["labels"]["test_case"]] = target["labels"]
    for target in data["droppedTargets"]:
        labels = target["discoveredLabels"]
        jobs = result.setdefault(labels["job"], {"kept": {}, "dropped": []})
        jobs["dropped"].append(labels["test_case"])
    return result


@pytest.fixture(scope="module")
def targets(tmp_path_factory):
    jobs = [job("envoy", envoy_relabelings("envoy"), free_port()),
            job("istio_merged", envoy_relabelings("istio_merged"), free_port()),
            job("istio_upstream", upstream_istio_relabelings(), free_port())]
    config = {"global": {"scrape_interval": "1h"}, "scrape_configs": jobs}
    with start_prometheus(str(tmp_path_factory.mktemp("prometheus")), config) as prometheus:
        yield targets_api(prometheus, expected=len(TARGETS) * len(jobs))


def test_envoy_keeps_only_running_or_pending_sidecar_ports(targets):
    assert sorted(targets["envoy"]["kept"]) == [
        "legacy-0/tcp-envoy-prom", "pay-5c4b/http-envoy-prom", "shop-7d9f/http-envoy-prom",
        "warmup-1f2e/http-envoy-prom"]
    assert sorted(targets["envoy"]["dropped"]) == ["report-28a1/http-envoy-prom", "shop-7d9f/http"]


def test_envoy_rewrites_the_address_to_15090_for_ipv4_and_ipv6(targets):
    kept = targets["envoy"]["kept"]
    assert kept["shop-7d9f/http-envoy-prom"]["instance"] == "10.1.0.5:15090"
    assert kept["pay-5c4b/http-envoy-prom"]["instance"] == "[2001:db8::7]:15090"
    # Declared on 15020 and without prometheus.io annotations: still scraped on 15090.
    assert kept["legacy-0/tcp-envoy-prom"]["instance"] == "10.1.0.11:15090"


def test_envoy_labels_are_namespace_and_pod_name_without_pod_labels(targets):
    labels = targets["envoy"]["kept"]["shop-7d9f/http-envoy-prom"]
    assert labels == {"instance": "10.1.0.5:15090", "job": "envoy", "namespace": "shop", "pod_name": "shop-7d9f",
                      "test_case": "shop-7d9f/http-envoy-prom"}
    for labels in targets["envoy"]["kept"].values():
        assert not {"app", "version", "security_istio_io_tlsMode", "job_name"} & set(labels)


def test_istio_merged_scrapes_the_annotated_port_of_istio_proxy(targets):
    kept = targets["istio_merged"]["kept"]
    assert sorted(kept) == ["pay-5c4b/http-envoy-prom", "report-28a1/http-envoy-prom",
                            "shop-7d9f/http-envoy-prom", "warmup-1f2e/http-envoy-prom"]
    assert kept["shop-7d9f/http-envoy-prom"]["instance"] == "10.1.0.5:15020"
    assert kept["pay-5c4b/http-envoy-prom"]["instance"] == "[2001:db8::7]:15020"
    assert kept["shop-7d9f/http-envoy-prom"]["namespace"] == "shop"
    assert kept["shop-7d9f/http-envoy-prom"]["pod_name"] == "shop-7d9f"
    # The pod without prometheus.io/scrape and the application container are dropped.
    assert sorted(targets["istio_merged"]["dropped"]) == ["legacy-0/tcp-envoy-prom", "shop-7d9f/http"]


def test_istio_upstream_keep_without_regex_keeps_unannotated_pods(targets):
    """Pins why the role writes regex "true": Istio's own rule keeps everything."""
    assert "legacy-0/tcp-envoy-prom" in targets["istio_upstream"]["kept"]
    assert targets["istio_upstream"]["dropped"] == ["shop-7d9f/http"]
