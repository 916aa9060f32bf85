"""The changelog tooling: antsibull-changelog accepts the config, changelog.yaml and fragments."""

import pathlib
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
ANTSIBULL_CHANGELOG = pathlib.Path(sys.executable).parent / "antsibull-changelog"


def changelog(*args, cwd=REPO):
    return subprocess.run([str(ANTSIBULL_CHANGELOG)] + [str(a) for a in args], cwd=str(cwd),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=60, check=False)


def test_fragments_lint_clean():
    result = changelog("lint")
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout


def test_changelog_yaml_is_valid():
    result = changelog("lint-changelog-yaml", "--strict", REPO / "changelogs" / "changelog.yaml")
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout


def copy_of_changelogs(tmp_path):
    shutil.copy(str(REPO / "galaxy.yml"), str(tmp_path / "galaxy.yml"))
    shutil.copytree(str(REPO / "changelogs"), str(tmp_path / "changelogs"))
    return tmp_path / "changelogs" / "fragments"


def test_lint_rejects_a_fragment_in_an_unknown_section(tmp_path):
    fragments = copy_of_changelogs(tmp_path)
    (fragments / "bad-section.yml").write_text("new_stuff:\n  - pushgateway - something changed.\n")
    result = changelog("lint", cwd=tmp_path)
    assert result.returncode != 0
    assert "bad-section.yml" in result.stdout and "new_stuff" in result.stdout


def test_lint_accepts_a_well_formed_fragment(tmp_path):
    fragments = copy_of_changelogs(tmp_path)
    (fragments / "good.yml").write_text(
        "minor_changes:\n  - pushgateway - the role can now expose a ServiceMonitor (https://example.invalid/2).\n"
    )
    result = changelog("lint", cwd=tmp_path)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout
