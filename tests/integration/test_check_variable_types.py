"""Role variables whose shape ansible-core would silently convert are refused, naming the variable."""

import pytest
import yaml

from ansible_collections.k8s_monitoring.prometheus.plugins.plugin_utils.builder_action import wrong_type
from tests.playbook import run_playbook


@pytest.mark.parametrize("value,spec,message", [
    ({"x": 1}, {"type": "str"}, "v: expected a string, got a mapping"),
    ([1], {"type": "path"}, "v: expected a string, got a list"),
    ([1], {"type": "dict", "options": {"a": {"type": "str"}}}, "v: expected a mapping, got a list"),
    ([{"a": {"b": 1}}], {"type": "list", "elements": "dict", "options": {"a": {"type": "str"}}},
     "v[0].a: expected a string, got a mapping"),
    (["x"], {"type": "list", "elements": "dict", "options": {"a": {"type": "str"}}}, "v[0]: expected a mapping"),
    ({"a": 1}, {"type": "list"}, "v: expected a list, got a mapping"),
])
def test_wrong_shapes_are_named(value, spec, message):
    assert wrong_type(value, spec, "v").startswith(message)


@pytest.mark.parametrize("value,spec", [("x", {"type": "str"}), (1, {"type": "str"}), ("a,b", {"type": "list"}),
                                        ({"a": "x"}, {"type": "dict", "options": {"a": {"type": "str"}}})])
def test_shapes_ansible_converts_harmlessly_pass(value, spec):
    assert wrong_type(value, spec, "v") is None


@pytest.mark.parametrize("variable", ["prometheus_external_access_password_dir",
                                      "prometheus_external_access_federation_file"])
def test_a_mapping_for_a_path_variable_writes_no_file_of_that_name(tmp_path, variable):
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [{
        "ansible.builtin.include_role": {"name": "k8s_monitoring.prometheus.prometheus_external_access"},
        "vars": {"prometheus_external_access_platform": "deckhouse", "prometheus_external_access_host": "p.example.com",
                 "prometheus_external_access_allowlist": ["203.0.113.0/24"], variable: {"x": 1}}}]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    result = run_playbook(tmp_path / "play.yml", cwd=tmp_path, check=False, env={"HOME": str(tmp_path)},
                          extra_vars={"k8s_monitoring_mode": "render", "k8s_monitoring_render_dir": str(tmp_path / "out")})
    assert result.returncode != 0
    assert "{0}: expected a string, got a mapping".format(variable) in result.stdout
    assert not list(tmp_path.rglob("*x*")) and not (tmp_path / "out").exists()
