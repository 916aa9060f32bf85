"""Figures tests report (cases tried, faults survived, leaks found), printed by
conftest.py at the end of the run, so they show without ``pytest -s``."""

LINES = []


def record(line):
    print(line)
    LINES.append(line)
