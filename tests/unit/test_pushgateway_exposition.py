"""pushgateway_exposition's own reader of plain exposition text, held against prometheus_client's parser.

The reader exists for speed (prometheus_client's parser was most of a 100 000-series
push); these tests hold it to prometheus_client's results: on every text it reads, it
must give the same families, and whatever it does not fully understand it must hand
back (None) rather than read differently.
"""

import json
import math
import pathlib
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import pushgateway_exposition as expo
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import pushgateway_http as http
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.pushgateway_client import run

REPO = pathlib.Path(__file__).resolve().parents[2]
SETTINGS = settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def reference(text):
    """prometheus_client's families of ``text``, or "error"."""
    try:
        return list(text_string_to_metric_families(text))
    except Exception:
        return "error"


def comparable(families):
    """Families as plain data; NaN made comparable, 1 and 1.0 the same value."""
    if families == "error":
        return families

    def value(number):
        return "NaN" if math.isnan(number) else float(number)
    return [(f.name, f.type, f.documentation, [(s[0], s[1], value(s[2]), s[3] if len(s) > 3 else None)
                                               for s in f.samples])
            for f in families]


PLAIN = [
    "# TYPE a gauge\na 1\n",
    "# HELP a Some help.\n# TYPE a gauge\na{x=\"1\"} 1.5\na{x=\"2\"} -2e-3\n",
    "# TYPE a gauge\n# HELP a Help after type.\na +Inf\n",
    "# HELP a only help\na NaN\n",
    "# HELP a\n# TYPE a untyped\na -Inf\n",
    '# HELP a back\\\\slash \\n newline "quotes" \\\\n\n# TYPE a gauge\na{v="q\\"uote \\\\ back \\n nl } { , = # HELP"} 1\n',
    "# TYPE c counter\nc 3\n# TYPE d_total counter\nd_total 4\n",
    '# TYPE h histogram\nh_bucket{le="0.5"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1.5\nh_count 2\n',
    '# TYPE s summary\ns{quantile="0.9"} 0.1\ns 2\ns_sum 1\ns_count 4\n',
    "# TYPE a gauge\na{} 1\n\n\n# TYPE b gauge\nb{_x=\"\",y=\"Grüße 東京 😀\"} 1.\n",
    "# TYPE e gauge\n",
    "",
]
UNUSUAL = [
    "a 1\n",                                          # no TYPE or HELP: prometheus_client's singleton family
    "# TYPE a gauge\na 1 1700000000\n",               # timestamp
    "# TYPE a gauge\na{x=\"\\t\"} 1\n",               # an escape the Pushgateway does not know
    "# TYPE a gauge\na{x=\"1\",} 1\n",                # trailing comma
    "# TYPE a gauge\na {x=\"1\"} 1\n",                # space before the labels
    "# TYPE a gauge\na{x=\"1\"}  1\n",                # two spaces
    "# TYPE a gauge\n a 1\n",                         # leading space
    "# TYPE a gauge\na 1 \n",                         # trailing space
    "# TYPE a gauge\na 0x10\n",                       # a value Python and Go read differently
    "# TYPE a gauge\na 1_000\n",
    "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",         # repeated label name
    "# TYPE a gauge\na{__x=\"1\"} 1\n",               # reserved label name
    "# TYPE a gauge\n# TYPE a gauge\na 1\n",          # second TYPE
    "# HELP a x\n# HELP a y\na 1\n",                  # second HELP
    "# TYPE a gauge\na 1\n# HELP a late\n",           # HELP after the samples
    "# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\na 2\n",  # family comes back
    "# TYPE a gauge\nb 1\n",                          # sample of another family
    "# TYPE a gauge\n# a comment\na 1\n",             # other comment
    "# HELP a two  spaces at the end  \na 1\n",       # trailing whitespace in HELP
    "# HELP a  leading space\na 1\n",
    "# HELP a back\\slash\na 1\n",                     # an escape HELP does not have
    "# TYPE a info\na 1\n",                           # not a text-format type
    "# TYPE push_time_seconds gauge\npush_time_seconds 1\n",
    "# TYPE a histogram\na 1\n",                       # histogram sample without a suffix
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_text_reads_as_prometheus_client_reads_it(text):
    plain = expo._parse_plain(text)
    assert plain is not None
    assert comparable(plain) == comparable(reference(text))


@pytest.mark.parametrize("text", UNUSUAL)
def test_unusual_text_is_left_to_prometheus_client(text):
    assert expo._parse_plain(text) is None


# --- generated texts: mostly plain layout, with broken or unusual pieces mixed in ------

NAMES = ["a", "a_total", "h", "s", "push_time_seconds"]
SUFFIXES = ["", "", "_total", "_bucket", "_sum", "_count"]
LABEL_NAMES = ["x", "y", "le", "quantile", "__n", "0x"]
LABEL_VALUES = ['"1"', '""', '"+Inf"', '"1.0"', '"a\\"b"', '"a\\\\"', '"a\\nb"', '"x}y"', '"x,y=z"', '"😀 ü"',
                '"a\\tb"', '"1', "1"]
VALUES = ["1", "-1.5", "1e3", ".5", "5.", "+Inf", "-Inf", "Inf", "NaN", "0x1", "1_0", "1 2", "x"]
HELP_TEXTS = ["", "help", "a\\\\b", "a\\nb", '"q" text', "a\\b", " lead", "trail "]
TYPES = ["gauge", "counter", "untyped", "histogram", "summary", "info"]
NOISE = ["", "# comment", " ", "a 1", "# TYPE a gauge", "# HELP a again"]


def mostly(draw, good, bad):
    """One of ``good`` nine times in ten, else one of ``bad``."""
    return draw(st.sampled_from(bad if draw(st.integers(0, 9)) == 0 else good))


@st.composite
def texts(draw):
    lines = []
    for name in draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True)):
        mtype = mostly(draw, TYPES[:5], TYPES[5:])
        if draw(st.booleans()):
            lines.append("# HELP {0} {1}".format(name, mostly(draw, HELP_TEXTS[:5], HELP_TEXTS[5:])).rstrip(" "))
        if draw(st.integers(0, 9)):
            lines.append("# TYPE {0} {1}".format(name, mtype))
        for _sample in range(draw(st.integers(0, 3))):
            labels = ["{0}={1}".format(mostly(draw, LABEL_NAMES[:4], LABEL_NAMES[4:]),
                                       mostly(draw, LABEL_VALUES[:10], LABEL_VALUES[10:]))
                      for _label in range(draw(st.integers(0, 2)))]
            label_text = "{" + ",".join(labels) + "}" if labels else ""
            suffix = mostly(draw, expo.SUFFIXES.get(mtype, [""]), SUFFIXES)
            lines.append("{0}{1}{2} {3}".format(name, suffix, label_text, mostly(draw, VALUES[:9], VALUES[9:])))
        if draw(st.integers(0, 9)) == 0:
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(NOISE)))
    return "\n".join(lines) + "\n"


@SETTINGS
@given(texts())
def test_the_reader_never_reads_a_text_otherwise_than_prometheus_client(text):
    plain = expo._parse_plain(text)
    if plain is not None:
        assert comparable(plain) == comparable(reference(text)), text


# --- structured metrics: families built directly, as the text would parse ----------

structured = st.lists(st.fixed_dictionaries({
    "name": st.sampled_from(["a", "b_total", "c"]),
    "value": st.one_of(st.floats(allow_nan=False), st.integers(-10 ** 12, 10 ** 12)),
    "labels": st.dictionaries(st.sampled_from(["x", "y", "le"]), st.text(max_size=5), max_size=2),
}), min_size=1, max_size=6)


@SETTINGS
@given(structured, st.sampled_from(["gauge", "counter", "untyped"]), st.sampled_from(["", "help \\ \n text"]))
def test_structured_families_match_their_text_parsed(metrics, mtype, help_text):
    metrics = [dict(m, type=mtype, help=help_text) for m in metrics]
    written = expo.families_from_structured(metrics)
    direct = expo.metric_families(written)
    assert comparable(direct) == comparable(list(text_string_to_metric_families(expo.write_families(written))))


# --- the slow parser is not on the path of plain or structured metrics --------------

def refuse_parser(text):
    raise AssertionError("prometheus_client's parser was called")


class NoGateway:
    def __call__(self, params, method, url, data=None, headers=None):
        return http.Response(200, b'{"status": "success", "data": []}', 1)


def params(**overrides):
    base = dict(url="http://pg:9091", job="j", grouping={}, metrics=None, metrics_text=None, method="put",
                state="present", force=False, timeout=1.0, retries=0, retry_delay=0.0, retry_max_delay=0.0)
    base.update(overrides)
    return base


def test_plain_text_and_structured_metrics_skip_prometheus_clients_parser(monkeypatch):
    monkeypatch.setattr(expo, "_prometheus_client_families", refuse_parser)
    text = "# HELP m A gauge.\n# TYPE m gauge\n" + "".join('m{{i="{0}"}} {0}\n'.format(i) for i in range(1000))
    assert run(params(metrics_text=text), check_mode=True, http=NoGateway())["series_pushed"] == 1000
    metrics = [{"name": "m", "value": i, "labels": {"i": str(i)}} for i in range(1000)]
    assert run(params(metrics=metrics), check_mode=True, http=NoGateway())["series_pushed"] == 1000


def test_unusual_text_still_gets_prometheus_clients_message():
    with pytest.raises(expo.ExpositionError, match=r"metrics_text: not valid Prometheus text format: Invalid labels"):
        expo.parse('# TYPE m gauge\nm{x=1} 1\n')


# --- prometheus_client is needed only for unusual text, and then named when missing --------

def test_without_prometheus_client_plain_text_works_and_unusual_text_names_the_library(monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # makes the import raise ImportError
    monkeypatch.setitem(sys.modules, "prometheus_client.parser", None)
    assert expo.parse("# TYPE a gauge\na 1\n")[0].samples[0].value == 1.0
    with pytest.raises(expo.MissingLibrary) as err:
        expo.parse("a 1\nb 1\na 2\n")
    assert err.value.library == "prometheus_client" and "ModuleNotFoundError" in err.value.traceback


def test_the_module_fails_with_missing_required_lib_not_a_traceback(tmp_path):
    args = tmp_path / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
        "url": "http://127.0.0.1:1", "job": "j", "metrics_text": "a 1\nb 1\na 2\n", "_ansible_check_mode": True}}))
    script = ("import runpy, sys; sys.modules['prometheus_client'] = None; sys.path.insert(0, {0!r}); "
              "sys.argv = ['m', {1!r}]; runpy.run_path({2!r}, run_name='__main__')").format(
                  str(REPO / ".collections"), str(args), str(REPO / "plugins/modules/pushgateway_metrics.py"))
    proc = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    result = json.loads(proc.stdout)
    assert result["failed"] is True and "Traceback" not in proc.stderr.decode(), proc.stderr
    assert result["msg"].startswith("Failed to import the required Python library (prometheus_client)")
