"""A plain ILOSTAT CSV is parsed by Arrow, any other line by line; both give the same table, the same
indicator names and the same problems, line numbers included. Each case starts from a real published
file, changed the way files really are (CRLF, blank lines, quotes) or really get damaged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sesreport.data import readers
from sesreport.data.readers import arrow, ilostat
from sesreport.data.resolve import _alternatives

from .conftest import need_real

UNION = "ilostat/ILR_TUMT_NOC_RT_A.csv"  # codes layout, byte-order mark, LF
EARNINGS = "ilostat/EAR_4MTH_SEX_GEO_CUR_NB_A-filtered-2025-06-01.csv"  # labels layout, every field quoted
SDG = "ilostat/SDG_0831_SEX_ECO_RT_A-filtered-2023-06-11.csv"


def read_both(path: Path, monkeypatch) -> tuple[object, object]:
    """What `readers.read` gives (or the problem it raises), with Arrow where the file allows and
    with the line reader alone."""
    opts = readers.ReadOptions(readers.sniff(path) or "ilostat_codes")

    def attempt():
        try:
            return readers.read(path, path.name, opts)
        except readers.FileUnreadable as exc:
            return exc.problem

    fast = attempt()
    with monkeypatch.context() as m:
        m.setattr(ilostat, "_read_plain", lambda *args: None)
        slow = attempt()
    return fast, slow


def assert_same(fast, slow) -> None:
    if not isinstance(slow, readers.RawTable):
        assert fast == slow
        return
    assert isinstance(fast, readers.RawTable)
    pd.testing.assert_frame_equal(fast.rows, slow.rows)
    assert list(fast.indicator_names.items()) == list(slow.indicator_names.items())
    assert [str(p) for p in fast.problems] == [str(p) for p in slow.problems]
    assert (fast.layout, fast.repairs) == (slow.layout, slow.repairs)


def plain(path: Path) -> bool:
    """The file is read through Arrow."""
    return ilostat._read_plain(path, path.name, readers.sniff(path) or "ilostat_codes") is not None


@pytest.fixture(params=["default", "small blocks"])
def blocks(request, monkeypatch):
    """The file read in the default blocks, and in blocks of a few lines (dictionaries differ from
    one batch to the next; blank lines and quotes fall on block boundaries)."""
    if request.param == "small blocks":
        monkeypatch.setattr(arrow, "BLOCK", 1500)  # the longest real line has 698 characters
        monkeypatch.setattr(arrow, "BATCH", 2048)


@pytest.mark.parametrize("name", [UNION, EARNINGS, SDG])
def test_every_real_ilostat_csv_is_read_by_arrow_to_the_same_table(name, monkeypatch, blocks):
    path = need_real() / name
    assert plain(path)
    fast, slow = read_both(path, monkeypatch)
    assert_same(fast, slow)


def test_real_labels_file_through_arrow(monkeypatch):
    raw = readers.read(need_real() / EARNINGS, "e.csv", readers.ReadOptions("ilostat_labels"))
    rows = raw.rows
    assert len(rows) == 6234 and rows["line"].iloc[-1] == 6235
    first = rows.iloc[0]
    assert (first["area_name"], first["year"], first["value"], first["sex"], first["classif1"], first["status"]) == (
        "Afghanistan", 2020, 836.263, "T", "", "Break in series")
    assert first["classif2"] == "|Currency: 2021 PPP $"
    assert list(raw.indicator_names.values()) == [
        "Average monthly earnings of employees by sex and rural / urban areas"]


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _quote_all(text: str) -> str:
    """Every field quoted, as ILOSTAT's explorer writes them; one label with a comma and a quote."""
    out = []
    for line in _lines(text):
        fields = line.rstrip("\n").split(",")
        out.append(",".join(f'"{f}"' for f in fields) + "\n")
    out[5] = out[5].replace('"BA:3048"', '"BA:3048, ""trade unions"""')
    return "".join(out)


# (name, change to the real union-density file, whether Arrow reads it)
CASES = [
    ("as published", lambda t: t, True),
    ("CRLF", lambda t: t.replace("\n", "\r\n"), True),
    ("blank lines", lambda t: "".join(ln + ("\n" if i in (3, 700) else "\r\n" if i == 9 else "")
                                      for i, ln in enumerate(_lines(t))) + "\n\n", True),
    ("a line of commas", lambda t: "".join(ln + (",,,,,,\n" if i == 40 else "") for i, ln in enumerate(_lines(t))),
     True),
    ("every field quoted", _quote_all, True),
    ("values that are no numbers", lambda t: t.replace(",26.48,", ",n.a.,").replace(",9.36,", ",1e999,")
     .replace(",16.77,", ", 16.77 ,").replace(",31.3,", ",\u221231.3,").replace(",20.8,", ",..,"), True),
    ("more than twenty bad values", lambda t: t.replace(",2019,", ",2019,x"), True),
    ("nothing but missing values", lambda t: "".join(
        ln if i == 0 else ",".join(ln.split(",")[:4] + ["", "", "\n"]) for i, ln in enumerate(_lines(t))), True),
    ("only its header", lambda t: _lines(t)[0], True),
    ("a closing quote followed by text", lambda t: t.replace("AUS,ILR", '"AUS"X,ILR', 1), False),
    ("a quoted line break", lambda t: t.replace("AUS,ILR", '"AU\nS",ILR', 1), False),
    ("the last line cut", lambda t: t[:-4], False),
    ("a time that is not a year", lambda t: t.replace(",2019,", ",2019Q1,", 1), False),
    ("a decimal comma", lambda t: t.replace(",26.48,", ",26,48,", 1), False),
    ("a NUL byte", lambda t: t.replace("BA:3048", "BA:30\x0048", 1), False),
    ("a lone carriage return", lambda t: t.replace("\n", "\r", 1), False),
]


@pytest.mark.parametrize("change, arrow_reads", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_changed_file_is_read_alike_either_way(tmp_path, monkeypatch, blocks, change, arrow_reads):
    text = (need_real() / UNION).read_bytes().decode("utf-8-sig")
    path = tmp_path / "ILR_TUMT_NOC_RT_A.csv"
    path.write_bytes(change(text).encode("utf-8-sig"))
    assert plain(path) is arrow_reads
    fast, slow = read_both(path, monkeypatch)
    assert_same(fast, slow)


def test_blank_lines_keep_the_line_numbers(tmp_path):
    text = (need_real() / UNION).read_bytes().decode("utf-8-sig")
    lines = _lines(text)
    path = tmp_path / "ILR_TUMT_NOC_RT_A.csv"
    path.write_bytes(("".join(lines[:3]) + "\n\r\n" + "".join(lines[3:])).encode("utf-8-sig"))
    rows = readers.read(path, "u.csv", readers.ReadOptions("ilostat_codes")).rows
    assert rows["line"].tolist()[:4] == [2, 3, 6, 7]
    assert rows["line"].iloc[-1] == 1290 and len(rows) == 1287


def test_damage_arrow_would_accept_is_still_refused_with_its_line(tmp_path):
    text = (need_real() / UNION).read_bytes().decode("utf-8-sig")
    path = tmp_path / "ILR_TUMT_NOC_RT_A.csv"
    path.write_bytes(text.replace("AUS,ILR", '"AUS"X,ILR', 1).encode("utf-8-sig"))
    with pytest.raises(readers.FileUnreadable) as err:
        readers.read(path, "u.csv", readers.ReadOptions("ilostat_codes"))
    assert (err.value.problem.line, err.value.problem.message) == (
        31, "broken CSV (',' expected after '\"'); the file looks truncated or damaged")


def test_bad_values_are_reported_by_line_as_the_line_reader_does(tmp_path):
    text = (need_real() / UNION).read_bytes().decode("utf-8-sig")
    path = tmp_path / "ILR_TUMT_NOC_RT_A.csv"
    path.write_bytes(text.replace(",26.48,", ",n.a.,").replace(",9.36,", ",1e999,").encode("utf-8-sig"))
    raw = readers.read(path, "u.csv", readers.ReadOptions("ilostat_codes"))
    assert [(p.line, p.message, p.severity) for p in raw.problems] == [
        (2, "'1e999' in column 'obs_value' is not a finite number", "error"),
        (31, "'n.a.' in column 'obs_value' is not a number; the value was skipped", "warning"),
        (801, "'1e999' in column 'obs_value' is not a finite number", "error")]
    assert len(raw.rows) == 1284


def test_values_set_aside_are_written_in_chunks_as_at_once(monkeypatch):
    """The texts of the values set aside, built a few values at a time, are those built at once;
    -0.0 and 0.0 stay apart."""
    cat = pd.Categorical
    obs = pd.DataFrame({"source_id": cat(["a", "a", "b", "b", "a", "b"]),
                        "source_code": cat(["X", "Y", "", "Z", "X", "Z"]),
                        "vintage": cat(["2020", "2020", "", "2021", "2020", "2021"]),
                        "value": [1.5, -0.0, 0.0, 1234567.0, 2.0, 3.25]})
    rows = np.array([0, 1, 2, 3, 4, 5])
    starts = np.array([0, 3, 5])  # cells: rows 0-2, 3-4, 5
    whole = pa_texts(_alternatives(obs, rows, starts))
    assert whole == ["a Y (2020): -0; b  (no vintage): 0", "a X (2020): 2", ""]
    monkeypatch.setattr("sesreport.data.resolve.CHUNK", 1)
    assert pa_texts(_alternatives(obs, rows, starts)) == whole


def pa_texts(chunks) -> list[str]:
    return [t for chunk in chunks for t in chunk.to_pylist()]


def test_row_keys_number_rows_in_sorted_order():
    """Duplicates and cells are numbered by sorting numbers: the same numbers as the rows' distinct
    combinations in sorted order, beyond the range where the product of the columns' widths would
    overflow too."""
    from sesreport.data.mapping import row_keys

    def sorted_combinations(columns: list[np.ndarray]) -> list[int]:
        return np.unique(np.stack(columns, axis=1).astype(np.int64), axis=0, return_inverse=True)[1].ravel().tolist()

    rng = np.random.default_rng(1)
    wide = [rng.integers(-1, 5, 5000).astype(np.int8), rng.integers(0, 2 ** 40, 5000),
            rng.integers(0, 2 ** 40, 5000), rng.integers(0, 3, 5000)]
    narrow = [rng.integers(0, 50, 5000).astype(np.int16), rng.integers(1990, 2024, 5000)]
    for columns in (wide, narrow, [np.array([2, 1, 2, 1, 0], dtype=np.int8)]):
        assert row_keys(columns).tolist() == sorted_combinations(columns)
    assert row_keys([np.array([2, 1, 2, 1, 0], dtype=np.int8), np.array([5, 7, 5, 3, 9])]).tolist() == [3, 2, 3, 1, 0]
