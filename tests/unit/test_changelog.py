"""The changelog tooling: antsibull-changelog accepts the config, changelog.yaml and fragments."""

import pathlib
import re
import shutil
import subprocess
import sys

import yaml

REPO = pathlib.Path(__file__).resolve().parent.parent.parent
ANTSIBULL_CHANGELOG = pathlib.Path(sys.executable).parent / "antsibull-changelog"
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


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


def releases():
    return yaml.safe_load((REPO / "changelogs" / "changelog.yaml").read_text())["releases"]


def semver(version):
    match = SEMVER.match(version)
    assert match, "{0} is not a semantic version".format(version)
    return tuple(int(part) for part in match.groups())


def test_the_first_release_lists_features_not_fixes():
    """Nobody had the code before the first release, so it fixed nothing for anyone."""
    first = min(releases(), key=semver)
    sections = set(releases()[first].get("changes", {}))
    assert sections & {"bugfixes", "security_fixes"} == set(), sections


def test_galaxy_version_is_semantic_and_not_behind_the_changelog():
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    assert semver(version) >= max(semver(v) for v in releases())


def test_changelog_rst_is_generated_from_changelog_yaml(tmp_path):
    """CHANGELOG.rst is what `antsibull-changelog generate` makes of changelog.yaml, not hand-edited."""
    copy_of_changelogs(tmp_path)
    shutil.copy(str(REPO / "CHANGELOG.rst"), str(tmp_path / "CHANGELOG.rst"))
    plugin_cache = REPO / "changelogs" / ".plugin-cache.yaml"
    if plugin_cache.is_file():
        shutil.copy(str(plugin_cache), str(tmp_path / "changelogs" / ".plugin-cache.yaml"))
    shutil.rmtree(str(tmp_path / "changelogs" / "fragments"))
    (tmp_path / "changelogs" / "fragments").mkdir()
    result = changelog("generate", "--refresh-fragments", "without-archives", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert (tmp_path / "CHANGELOG.rst").read_text() == (REPO / "CHANGELOG.rst").read_text()
