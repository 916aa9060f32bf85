from ansible_collections.k8s_monitoring.prometheus.plugins.filter.object_refs import object_refs
from ansible_collections.k8s_monitoring.prometheus.plugins.plugin_utils.builder_action import plain


def test_object_refs_drops_everything_but_identity():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a", "namespace": "m", "labels": {"x": "y"}},
              "data": {"auth": "c2VjcmV0"}}
    assert object_refs([secret]) == [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "a", "namespace": "m"}}]
    cluster_scoped = {"apiVersion": "deckhouse.io/v1alpha1", "kind": "ModuleConfig", "metadata": {"name": "p"}}
    assert object_refs([cluster_scoped])[0]["metadata"] == {"name": "p"}


def test_plain_turns_subclasses_into_builtin_types():
    class TaggedStr(str):
        pass

    class TaggedDict(dict):
        pass

    value = plain(TaggedDict(a=[TaggedStr("x"), 1, True, None, 1.5]))
    assert type(value).__name__ == "dict" and type(value["a"][0]).__name__ == "str"
    assert value == {"a": ["x", 1, True, None, 1.5]}
