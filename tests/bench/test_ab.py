"""bench/ab.py end to end, in short: this checkout against itself, on a tiny database. It asserts no speed."""

from __future__ import annotations

from pathlib import Path

from bench import ab


def test_a_short_comparison_prints_a_row_per_commit(tmp_path: Path, capsys):
    status = ab.main(["HEAD", "HEAD", "--issues", "1200", "--duration", "1", "--repeats", "1", "--dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0, out
    rows = [line for line in out.splitlines() if line.startswith("| HEAD |")]
    assert len(rows) == 2, out
    assert all(float(row.split("|")[5]) > 0 for row in rows), rows  # CPU per GET was sampled
