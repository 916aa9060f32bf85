"""Fail early without `make bootstrap`; the `tests` package sets up the collection imports."""

import tests

if not (tests.COLLECTIONS / "ansible_collections" / "k8s_monitoring" / "prometheus").exists():
    raise RuntimeError("run `make bootstrap` first: .collections/ links this checkout as the collection")


def pytest_terminal_summary(terminalreporter):
    from tests import figures

    if figures.LINES:
        terminalreporter.section("figures")
        for line in figures.LINES:
            terminalreporter.write_line(line)
