"""kernel.files (issue 17): formula cells neutralised by OWASP's rule; output files never follow a link, never
replace an existing file without force, are 0600, and leave nothing behind when the write fails. The files are
checked from outside, as an attacker on the same machine would see them."""

from __future__ import annotations

import csv
import io
import os
import stat

import pytest

from mamori.kernel import files
from mamori.kernel.errors import MamoriError

DANGEROUS = ["=1+1", "+81-90", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", '=HYPERLINK("http://x","y")']
HARMLESS = ["山田", "1-2-3", "a=b", "", "'=already", "x@example.jp"]


def test_every_formula_prefix_gets_a_quote_and_nothing_else_changes():
    for v in DANGEROUS:
        assert files.safe_cell(v) == "'" + v
    for v in HARMLESS:
        assert files.safe_cell(v) == v
    assert files.safe_cell(5) == 5 and files.safe_cell(None) is None
    buf = io.StringIO()
    w = files.csv_dict_writer(buf, ["a", "b"])
    w.writeheader()
    w.writerows([{"a": v, "b": "ok"} for v in DANGEROUS])
    rows = list(csv.DictReader(io.StringIO(buf.getvalue(), newline="")))
    assert [r["a"] for r in rows] == ["'" + v for v in DANGEROUS]
    assert all(r["b"] == "ok" for r in rows)


def test_an_output_file_is_created_0600_and_an_existing_one_is_refused(tmp_path):
    out = tmp_path / "out.csv"
    files.write_output(out, "a,b\n")
    assert out.read_text() == "a,b\n" and stat.S_IMODE(out.stat().st_mode) == 0o600
    with pytest.raises(MamoriError) as exc:
        files.write_output(out, "other\n")
    assert exc.value.code == "file_exists" and "--force" in exc.value.message("en")
    assert out.read_text() == "a,b\n"
    files.write_output(out, "new\n", force=True)
    assert out.read_text() == "new\n" and stat.S_IMODE(out.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_a_symbolic_link_is_never_followed_with_or_without_force(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    link = tmp_path / "out.csv"
    link.symlink_to(victim)
    with pytest.raises(MamoriError) as exc:
        files.write_output(link, "attack\n")
    assert exc.value.code == "file_exists"
    assert victim.read_text() == "precious\n" and link.is_symlink()
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "created-by-us.txt")
    with pytest.raises(MamoriError):
        files.write_output(dangling, "attack\n")
    assert not (tmp_path / "created-by-us.txt").exists()
    # --force replaces the link itself, atomically; the file it pointed at is untouched
    files.write_output(link, "export\n", force=True)
    assert not link.is_symlink() and link.read_text() == "export\n"
    assert victim.read_text() == "precious\n"


def test_a_failed_write_leaves_nothing_and_a_directory_or_missing_folder_is_one_error(tmp_path):
    out = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), files.output_file(out) as fh:
        fh.write("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "dir").mkdir()
    for target, force in ((tmp_path / "dir", True), (tmp_path / "missing" / "x.csv", False)):
        with pytest.raises(MamoriError) as exc:
            files.write_output(target, "x", force=force)
        assert exc.value.code == "output_unwritable"
    assert os.listdir(tmp_path / "dir") == []
