# -*- coding: utf-8 -*-
# Copyright: (c) 2026, k8s_monitoring.prometheus contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builder of the ``pushgateway`` role: Pushgateway instances as Kubernetes objects.

Three presets:

``deckhouse``
    One ``ModuleConfig`` ``prometheus-pushgateway``. The role *owns* the instance
    list: server-side apply replaces ``spec.settings.instances`` as a whole (a list
    without merge keys is atomic), so an instance removed from the variable is removed
    from the cluster, and one added by hand is dropped on the next run.
``plain``
    Per instance a Deployment (one replica, non-root, read-only root filesystem),
    a Service on 9091, a ServiceMonitor, and optionally a PersistentVolumeClaim for
    ``--persistence.file`` and a Secret holding the exporter-toolkit web config
    (basic-auth bcrypt hashes, TLS file paths).
``verrazzano``
    ``plain`` in Verrazzano's ``verrazzano-monitoring``, with the label its
    Prometheus selects monitors by (``release: prometheus-operator``).

``workloads`` says which pods a use of the role runs, for the roles that must
agree with it (network_policies).

Nothing here reads a private key or a plain-text password: TLS certificates and
the scrape credentials are references to Secrets that exist in the cluster.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import re

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import ownership, platforms, validation
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError

COMPONENT = "pushgateway"
PORT = 9091
DECKHOUSE_NAMESPACE = "kube-prometheus-pushgateway"
PRESETS = ("plain", "verrazzano", "deckhouse")
# Where the objects go when pushgateway_namespace is left empty.
PRESET_NAMESPACES = {"plain": "monitoring", "verrazzano": "verrazzano-monitoring", "deckhouse": DECKHOUSE_NAMESPACE}
# Labels the platform's Prometheus selects monitors by: every ServiceMonitor of the preset carries them.
PRESET_MONITOR_LABELS = {"verrazzano": platforms.VERRAZZANO_MONITOR_SELECTOR}
# The pods of the plain presets; network_policies selects them by this label.
POD_NAME_LABELS = {"app.kubernetes.io/name": "pushgateway"}
DECKHOUSE_MODULE = "prometheus-pushgateway"
DEFAULT_IMAGE = "quay.io/prometheus/pushgateway:v1.11.1"
DEFAULT_RESOURCES = {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "128Mi"}}
WEB_CONFIG_DIR = "/etc/pushgateway"
TLS_DIR = "/etc/pushgateway/tls"
DATA_DIR = "/data"
RUN_AS = 65534
BCRYPT_HASH = re.compile(r"^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$")
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
# --persistence.interval is a Go duration (time.ParseDuration), looser than Prometheus's.
GO_DURATION = re.compile(r"^([0-9]+(ms|s|m|h))+$")
TOLERATION_KEYS = ("effect", "key", "operator", "tolerationSeconds", "value")

PERSISTENCE_SPEC = dict(
    enabled=dict(type="bool", default=False),
    size=dict(type="str", default="1Gi"),
    storage_class=dict(type="str"),
    interval=dict(type="str", default="5m"),
)
PERSISTENCE_DEFAULTS = dict((k, v.get("default")) for k, v in PERSISTENCE_SPEC.items())

ARGUMENT_SPEC = dict(
    state=dict(type="str", default="present", choices=["present", "absent"]),
    preset=dict(type="str", default="plain", choices=list(PRESETS)),
    instances=dict(type="list", elements="dict", default=[], options=dict(
        name=dict(type="str", required=True),
        image=dict(type="str"),
        resources=dict(type="dict"),
        honor_labels=dict(type="bool"),
        # No defaults here: what an instance leaves out comes from pushgateway_persistence.
        persistence=dict(type="dict", options=dict((k, dict(type=v["type"])) for k, v in PERSISTENCE_SPEC.items())),
    )),
    namespace=dict(type="str", default=""),
    image=dict(type="str", default=DEFAULT_IMAGE),
    image_pull_policy=dict(type="str", default="IfNotPresent", choices=["Always", "IfNotPresent", "Never"]),
    resources=dict(type="dict", default=DEFAULT_RESOURCES),
    honor_labels=dict(type="bool", default=True),
    persistence=dict(type="dict", default={}, options=PERSISTENCE_SPEC),
    service_monitor_labels=dict(type="dict", default={}),
    scrape_interval=dict(type="str"),
    basic_auth_users=dict(type="list", elements="dict", default=[], options=dict(
        username=dict(type="str", required=True),
        password_hash=dict(type="str", required=True, no_log=True),
    )),
    # Names of Secrets, not secrets: nothing to hide.
    scrape_basic_auth_secret=dict(type="str", no_log=False),
    tls_secret=dict(type="str", no_log=False),
    node_selector=dict(type="dict", default={}),
    tolerations=dict(type="list", elements="dict", default=[]),
    deckhouse_settings_version=dict(type="int", default=1),
)


def _api(api_version, kind, source=None):
    api = {"api_version": api_version, "kind": kind}
    if source:
        api["source"] = source
    return api


PLAIN_KINDS = [
    _api("v1", "Secret"), _api("v1", "PersistentVolumeClaim"), _api("apps/v1", "Deployment"),
    _api("v1", "Service"), _api("monitoring.coreos.com/v1", "ServiceMonitor"),
]
DECKHOUSE_KINDS = [_api("deckhouse.io/v1alpha1", "ModuleConfig")]


def instance_url(preset, name, namespace, tls=False):
    if preset == "deckhouse":
        return "http://{0}.{1}:{2}".format(name, DECKHOUSE_NAMESPACE, PORT)
    return "{0}://{1}.{2}.svc:{3}".format("https" if tls else "http", name, namespace, PORT)


def instance_names(instances, variable="pushgateway_instances"):
    """The validated instance names, in order."""
    if not isinstance(instances, list):
        raise ValidationError(variable, "expected a list of instances", instances)
    names = []
    for index, instance in enumerate(instances):
        where = "{0}[{1}].name".format(variable, index)
        name = validation.dns1123_label(where, instance.get("name") if isinstance(instance, dict) else None)
        if name in names:
            raise ValidationError(where, "duplicate instance name", name)
        names.append(name)
    return names


def namespace_of(preset, namespace):
    if preset == "deckhouse":
        return DECKHOUSE_NAMESPACE
    return namespace or PRESET_NAMESPACES[preset]


def workloads(preset, namespace, names):
    """The pods the instances run: [{name, namespace, pod_labels, port}].

    Deckhouse's module runs a StatefulSet ``<instance>`` with pods labelled
    ``app: <instance>`` alone in its namespace; the other presets run this
    builder's Deployments.
    """
    where = namespace_of(preset, namespace)
    return [{"name": name, "namespace": where, "port": PORT,
             "pod_labels": {"app": name} if preset == "deckhouse" else _labels(name)} for name in names]


def pod_selector(preset):
    """Labels selecting every Pushgateway pod of the preset; Deckhouse's namespace holds nothing else."""
    return {} if preset == "deckhouse" else dict(POD_NAME_LABELS)


def _check_node_placement(params):
    for key, value in (params.get("node_selector") or {}).items():
        validation.label_key("pushgateway_node_selector.{0}".format(key), key)
        if not isinstance(value, str):
            raise ValidationError("pushgateway_node_selector.{0}".format(key), "expected a string value", value)
    for index, toleration in enumerate(params.get("tolerations") or []):
        where = "pushgateway_tolerations[{0}]".format(index)
        unknown = sorted(set(toleration) - set(TOLERATION_KEYS))
        if unknown:
            raise ValidationError(where, "unknown keys {0}; expected {1}".format(
                ", ".join(unknown), ", ".join(TOLERATION_KEYS)))
        if toleration.get("operator") not in (None, "Exists", "Equal"):
            raise ValidationError(where + ".operator", "expected Exists or Equal", toleration.get("operator"))
        if toleration.get("effect") not in (None, "NoSchedule", "PreferNoSchedule", "NoExecute"):
            raise ValidationError(where + ".effect", "expected NoSchedule, PreferNoSchedule or NoExecute",
                                  toleration.get("effect"))
        seconds = toleration.get("tolerationSeconds")
        if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int)):
            raise ValidationError(where + ".tolerationSeconds", "expected an integer", seconds)


def _persistence(params, instance, index):
    merged = dict(PERSISTENCE_DEFAULTS)
    merged.update(dict((k, v) for k, v in (params.get("persistence") or {}).items() if v is not None))
    merged.update(dict((k, v) for k, v in (instance.get("persistence") or {}).items() if v is not None))
    where = "pushgateway_instances[{0}].persistence".format(index) if instance.get("persistence") \
        else "pushgateway_persistence"
    if merged["enabled"]:
        if not QUANTITY.match(str(merged["size"])):
            raise ValidationError(where + ".size", "expected a storage quantity such as 1Gi", merged["size"])
        if not GO_DURATION.match(str(merged["interval"])):
            raise ValidationError(where + ".interval", "expected a duration such as 5m", merged["interval"])
        if merged.get("storage_class") is not None:
            validation.dns1123_subdomain(where + ".storage_class", merged["storage_class"])
    return merged


def build_module_config(params, names):
    settings = {"instances": list(names)}
    if params.get("node_selector"):
        settings["nodeSelector"] = dict(params["node_selector"])
    if params.get("tolerations"):
        settings["tolerations"] = [dict(t) for t in params["tolerations"]]
    return ownership.owned({
        "apiVersion": "deckhouse.io/v1alpha1",
        "kind": "ModuleConfig",
        "metadata": {"name": DECKHOUSE_MODULE},
        "spec": {"enabled": True, "version": params.get("deckhouse_settings_version") or 1, "settings": settings},
    }, COMPONENT)


def web_config(params):
    """The exporter-toolkit web config, or None when neither basic auth nor TLS is on."""
    config = {}
    if params.get("tls_secret"):
        config["tls_server_config"] = {"cert_file": TLS_DIR + "/tls.crt", "key_file": TLS_DIR + "/tls.key"}
    if params.get("basic_auth_users"):
        config["basic_auth_users"] = dict((u["username"], u["password_hash"]) for u in params["basic_auth_users"])
    return config or None


def _labels(name):
    return dict(POD_NAME_LABELS, **{"app.kubernetes.io/instance": name})


def build_instance(params, instance, index, web_config_text):
    name = instance["name"]
    namespace = params["namespace"]
    labels = _labels(name)
    persistence = _persistence(params, instance, index)
    tls = bool(params.get("tls_secret"))
    image = instance.get("image") or params["image"]
    if not isinstance(image, str) or not image.strip() or " " in image:
        raise ValidationError("pushgateway_instances[{0}].image".format(index) if instance.get("image")
                              else "pushgateway_image", "expected a container image reference", image)
    resources = instance.get("resources") if instance.get("resources") is not None else params.get("resources")
    honor_labels = instance.get("honor_labels")
    if honor_labels is None:
        honor_labels = params["honor_labels"]

    args = ["--web.listen-address=:{0}".format(PORT)]
    volumes, mounts, objects = [], [], []
    pod_annotations = {}
    if persistence["enabled"]:
        claim = "{0}-data".format(name)
        args += ["--persistence.file={0}/pushgateway.db".format(DATA_DIR),
                 "--persistence.interval={0}".format(persistence["interval"])]
        pvc_spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": str(persistence["size"])}}}
        if persistence.get("storage_class"):
            pvc_spec["storageClassName"] = persistence["storage_class"]
        objects.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                        "metadata": {"name": claim, "namespace": namespace, "labels": dict(labels)},
                        "spec": pvc_spec})
        volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": claim}})
        mounts.append({"name": "data", "mountPath": DATA_DIR})
    if web_config_text is not None:
        secret_name = "{0}-web-config".format(name)
        objects.insert(0, {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                           "metadata": {"name": secret_name, "namespace": namespace, "labels": dict(labels)},
                           "stringData": {"web-config.yml": web_config_text}})
        args.append("--web.config.file={0}/web-config.yml".format(WEB_CONFIG_DIR))
        volumes.append({"name": "web-config", "secret": {"secretName": secret_name}})
        mounts.append({"name": "web-config", "mountPath": WEB_CONFIG_DIR, "readOnly": True})
        # Restart the pod when the web config changes; the hash is of bcrypt hashes and paths only.
        pod_annotations["prometheus.k8s-monitoring.io/web-config-sha256"] = hashlib.sha256(
            web_config_text.encode("utf-8")).hexdigest()
    if tls:
        volumes.append({"name": "tls", "secret": {"secretName": params["tls_secret"]}})
        mounts.append({"name": "tls", "mountPath": TLS_DIR, "readOnly": True})

    # HTTP probes would get 401 behind basic auth; a TCP probe works whatever the web config.
    probe_handler = {"tcpSocket": {"port": "http"}} if web_config_text is not None \
        else {"httpGet": {"path": "/-/ready", "port": "http"}}
    container = {
        "name": "pushgateway",
        "image": image,
        "imagePullPolicy": params["image_pull_policy"],
        "args": args,
        "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": dict(probe_handler, periodSeconds=10),
        "livenessProbe": dict(({"tcpSocket": {"port": "http"}} if web_config_text is not None
                               else {"httpGet": {"path": "/-/healthy", "port": "http"}}),
                              periodSeconds=20, failureThreshold=3),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "capabilities": {"drop": ["ALL"]},
        },
    }
    if resources:
        container["resources"] = resources
    if mounts:
        container["volumeMounts"] = mounts
    pod_spec = {
        "automountServiceAccountToken": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": RUN_AS, "runAsGroup": RUN_AS, "fsGroup": RUN_AS,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
    }
    if volumes:
        pod_spec["volumes"] = volumes
    if params.get("node_selector"):
        pod_spec["nodeSelector"] = dict(params["node_selector"])
    if params.get("tolerations"):
        pod_spec["tolerations"] = [dict(t) for t in params["tolerations"]]
    template_metadata = {"labels": dict(labels)}
    if pod_annotations:
        template_metadata["annotations"] = pod_annotations
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "replicas": 1,
            # A ReadWriteOnce volume cannot be mounted by the old and the new pod at once.
            "strategy": {"type": "Recreate"} if persistence["enabled"] else {"type": "RollingUpdate"},
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": template_metadata, "spec": pod_spec},
        },
    }
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {"type": "ClusterIP", "selector": dict(labels),
                 "ports": [{"name": "http", "port": PORT, "targetPort": "http", "protocol": "TCP"}]},
    }
    endpoint = {"port": "http", "honorLabels": bool(honor_labels), "path": "/metrics"}
    if params.get("scrape_interval"):
        endpoint["interval"] = params["scrape_interval"]
    if tls:
        endpoint["scheme"] = "https"
        endpoint["tlsConfig"] = {"serverName": "{0}.{1}.svc".format(name, namespace),
                                 "ca": {"secret": {"name": params["tls_secret"], "key": "ca.crt"}}}
    if params.get("scrape_basic_auth_secret"):
        endpoint["basicAuth"] = {
            "username": {"name": params["scrape_basic_auth_secret"], "key": "username"},
            "password": {"name": params["scrape_basic_auth_secret"], "key": "password"},
        }
    service_monitor = {
        "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": dict(params.get("service_monitor_labels") or {}, **labels)},
        "spec": {"selector": {"matchLabels": dict(labels)},
                 "namespaceSelector": {"matchNames": [namespace]},
                 "endpoints": [endpoint]},
    }
    objects += [deployment, service, service_monitor]
    return [ownership.owned(o, COMPONENT) for o in objects]


def _check_plain(params):
    validation.dns1123_label("pushgateway_namespace", params.get("namespace"))
    if params.get("scrape_interval"):
        validation.duration("pushgateway_scrape_interval", params["scrape_interval"])
    for name in ("scrape_basic_auth_secret", "tls_secret"):
        if params.get(name):
            validation.dns1123_subdomain("pushgateway_" + name, params[name])
    users = []
    for index, user in enumerate(params.get("basic_auth_users") or []):
        where = "pushgateway_basic_auth_users[{0}]".format(index)
        username = validation.basic_auth_username(where + ".username", user.get("username"))
        if username in users:
            raise ValidationError(where + ".username", "duplicate user name", username)
        users.append(username)
        if not isinstance(user.get("password_hash"), str) or not BCRYPT_HASH.match(user["password_hash"]):
            raise ValidationError(where + ".password_hash",
                                  "expected a bcrypt hash ($2y$/$2b$/$2a$...), the only scheme the Pushgateway "
                                  "accepts; make one with: htpasswd -nBC 10 '' | tr -d ':\\n'", show_value=False)
    if users and not params.get("scrape_basic_auth_secret"):
        raise ValidationError("pushgateway_scrape_basic_auth_secret",
                              "required with pushgateway_basic_auth_users: name the Secret (keys username, "
                              "password) Prometheus scrapes with, or the ServiceMonitor gets 401")


def _check_deckhouse(params):
    for option, value in (("basic_auth_users", params.get("basic_auth_users")),
                          ("tls_secret", params.get("tls_secret")),
                          ("scrape_basic_auth_secret", params.get("scrape_basic_auth_secret"))):
        if value:
            raise ValidationError("pushgateway_" + option, "not supported with pushgateway_preset=deckhouse: "
                                  "the Deckhouse module runs its own Pushgateways without a web config")
    if (params.get("persistence") or {}).get("enabled"):
        raise ValidationError("pushgateway_persistence.enabled", "not supported with pushgateway_preset=deckhouse: "
                              "the Deckhouse module keeps metrics in memory only")
    for index, instance in enumerate(params.get("instances") or []):
        extra = sorted(k for k in ("image", "resources", "honor_labels", "persistence") if instance.get(k) is not None)
        if extra:
            raise ValidationError("pushgateway_instances[{0}]".format(index),
                                  "{0} not supported with pushgateway_preset=deckhouse; the module only takes "
                                  "instance names".format(", ".join(extra)))
    version = params.get("deckhouse_settings_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError("pushgateway_deckhouse_settings_version", "expected a positive integer", version)


def _monitor_labels(preset, labels):
    """pushgateway_service_monitor_labels with the labels the preset's Prometheus selects by."""
    labels = dict(labels or {})
    if labels:
        validation.labels("pushgateway_service_monitor_labels", labels)
    for key, value in PRESET_MONITOR_LABELS.get(preset, {}).items():
        if labels.get(key, value) != value:
            raise ValidationError("pushgateway_service_monitor_labels.{0}".format(key),
                                  "the {0} preset's Prometheus selects monitors with {1}={2}; a ServiceMonitor "
                                  "labelled otherwise is never scraped".format(preset, key, value), labels[key])
        labels[key] = value
    return labels


def build(params, check_mode=False):
    preset = params.get("preset") or "plain"
    validation.one_of("pushgateway_preset", preset, PRESETS)
    params = dict(params, namespace=namespace_of(preset, params.get("namespace")),
                  service_monitor_labels=_monitor_labels(preset, params.get("service_monitor_labels")))
    instances = params.get("instances") or []
    names = instance_names(instances)
    _check_node_placement(params)
    if params.get("state", "present") == "present" and not names:
        raise ValidationError("pushgateway_instances", "expected at least one instance with state present; "
                              "set pushgateway_state: absent to remove every instance")
    warnings = []
    if preset == "deckhouse":
        _check_deckhouse(params)
        manifests = [build_module_config(params, names)] if names else []
        urls = dict((n, instance_url(preset, n, DECKHOUSE_NAMESPACE)) for n in names)
        required = DECKHOUSE_KINDS
    else:
        _check_plain(params)
        config = web_config(params)
        # JSON is YAML too, and keeps the builder free of a PyYAML dependency on managed nodes.
        config_text = json.dumps(config, indent=2, sort_keys=True) + "\n" if config else None
        manifests = []
        for index, instance in enumerate(instances):
            manifests.extend(build_instance(params, instance, index, config_text))
        urls = dict((n, instance_url(preset, n, params["namespace"], bool(params.get("tls_secret")))) for n in names)
        required = [_api("monitoring.coreos.com/v1", "ServiceMonitor")]
        if params.get("scrape_basic_auth_secret"):
            warnings.append("The ServiceMonitors read Secret {0}/{1} (keys username, password); the role does not "
                            "create it. Create it with: kubectl -n {0} create secret generic {1} "
                            "--from-literal=username=<user> --from-file=password=<file with the password>".format(
                                params["namespace"], params["scrape_basic_auth_secret"]))
    return {
        "changed": False,
        "manifests": manifests,
        # Removing needs no CRD: prune skips kinds the cluster does not serve.
        "required_apis": [dict(a) for a in required] if params.get("state", "present") == "present" else [],
        # Both presets' kinds: switching preset removes what the other one made (prune skips unserved APIs).
        "prune_kinds": [dict(a) for a in PLAIN_KINDS + DECKHOUSE_KINDS],
        "urls": urls,
        "namespace": params["namespace"],
        "workloads": workloads(preset, params["namespace"], names) if params.get("state", "present") == "present" else [],
        "warnings": warnings,
    }
