"""The federation selector check agrees with Prometheus's own parser (promtool).

validation.series_selector is hand-written: the only Python PromQL parsers are
compiled bindings, which controllers and execution environments would have to
carry for one check. promtool parses every selector the check accepts and every
one it refuses here; a selector it accepts must be valid PromQL, and one
Prometheus refuses must be refused.
"""

import subprocess

import pytest
import yaml

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import validation
from tests.integration.services import binary

# Written as users write them: Prometheus and the check must both take these.
ORDINARY = ['{job=~".+"}', "up", 'up{job="node"}', '{__name__=~"job:.*"}', '{job="a",}', 'up{job!="", env=~"p.*"}',
            'node_cpu_seconds_total{mode="idle",cpu="0"}', '{job="a\\"b"}']
CORPUS = ORDINARY + ['{job=""}', '{job=~".*"}', "up{", "{job=x}", "", "a b", "rate(up[5m])", '{job="a"', "{=\"a\"}",
                     'up{job="x"} offset 5m', '{job=~"("}']


def promtool_accepts(tmp_path, expression):
    rules = tmp_path / "rules.yml"
    rules.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [{"record": "r", "expr": expression}]}]}))
    result = subprocess.run([binary("promtool"), "check", "rules", str(rules)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, universal_newlines=True, timeout=60, check=False)
    return result.returncode == 0


@pytest.mark.parametrize("selector", CORPUS)
def test_the_selector_check_is_never_looser_than_prometheus(tmp_path, selector):
    try:
        validation.series_selector("federation_match[0]", selector)
        accepted = True
    except validation.ValidationError:
        accepted = False
    assert not accepted or promtool_accepts(tmp_path, selector), "accepted, but Prometheus refuses {0!r}".format(selector)


@pytest.mark.parametrize("selector", ORDINARY)
def test_ordinary_selectors_prometheus_takes_are_accepted(tmp_path, selector):
    """The other direction, for the selectors users write (stricter forms, such as single quotes, aside)."""
    assert promtool_accepts(tmp_path, selector)
    validation.series_selector("federation_match[0]", selector)
