import os
import stat

import pytest

from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils import controller_files
from ansible_collections.k8s_monitoring.prometheus.plugins.module_utils.validation import ValidationError


def files(*items):
    return {"files": [dict({"content": "", "mode": "0644", "state": "present"}, **item) for item in items]}


def test_writes_creates_directories_and_is_idempotent(tmp_path):
    target = tmp_path / "a" / "b" / "job.yaml"
    result = controller_files.build(files({"path": str(target), "content": "x: 1\n"}), check_mode=False)
    assert result["changed"] and result["written"] == [str(target)]
    assert target.read_text() == "x: 1\n" and stat.S_IMODE(os.stat(target).st_mode) == 0o644
    again = controller_files.build(files({"path": str(target), "content": "x: 1\n"}), check_mode=False)
    assert not again["changed"]


def test_mode_change_alone_is_a_change(tmp_path):
    target = tmp_path / "f"
    controller_files.build(files({"path": str(target), "content": "x"}), check_mode=False)
    result = controller_files.build(files({"path": str(target), "content": "x", "mode": "0600"}), check_mode=False)
    assert result["changed"] and stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_check_mode_and_absent(tmp_path):
    target = tmp_path / "f"
    assert controller_files.build(files({"path": str(target), "content": "x"}), check_mode=True)["changed"]
    assert not target.exists()
    controller_files.build(files({"path": str(target), "content": "x"}), check_mode=False)
    result = controller_files.build(files({"path": str(target), "state": "absent"}), check_mode=False)
    assert result["removed"] == [str(target)] and not target.exists()
    assert not controller_files.build(files({"path": str(target), "state": "absent"}), check_mode=False)["changed"]


def test_bad_mode_names_the_option(tmp_path):
    with pytest.raises(ValidationError, match=r"^files\[0\]\.mode: "):
        controller_files.build(files({"path": str(tmp_path / "f"), "mode": "rw-r--r--"}), check_mode=False)
