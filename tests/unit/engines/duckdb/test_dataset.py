"""The evidence reader: formats, 0/1 normalisation, missing values, progress, located errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ethicsgate.engines.duckdb import open_evidence
from ethicsgate.errors import EvidenceError, Location
from ethicsgate.evidence import EvidenceSpec


def _open(path: str, base: Path, **spec: object):  # type: ignore[no-untyped-def]
    return open_evidence(
        "ev",
        EvidenceSpec.model_validate({"path": path, **spec}),
        base_dir=base,
        locate=lambda loc: Location("audit.yaml", 1, 1),
    )


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def _counts(ev, roles, binary=("label", "prediction"), **kw):  # type: ignore[no-untyped-def]
    try:
        return ev.grouped_counts(roles=roles, binary_roles=list(binary), **kw)
    finally:
        ev.engine.close()


@pytest.mark.parametrize(
    ("label_values", "expected"),
    [
        (["true", "false", "TRUE"], [1, 0, 1]),
        (["1.0", "0.0", "1"], [1, 0, 1]),
        (["1", "0", "1"], [1, 0, 1]),
    ],
)
def test_binary_roles_accept_booleans_numbers_and_text(
    write: Callable[[str, str], Path], tmp_path: Path, label_values: list[str], expected: list[int]
) -> None:
    rows = "\n".join(f"g{i},{v},0" for i, v in enumerate(label_values))
    write("d.csv", "grp,label,prediction\n" + rows + "\n")
    counts = _counts(_open("d.csv", tmp_path), ["grp", "label", "prediction"])
    frame = counts.frame.sort_values("grp")
    assert frame["label"].tolist() == expected
    assert counts.rows == counts.rows_read == 3


def test_float_column_with_a_fraction_is_rejected(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("d.csv", "grp,label,prediction\na,1,0\nb,0.5,1\n")
    with pytest.raises(
        EvidenceError, match=r"'label' must be 0 or 1, found '0.5' in row 2, line 3"
    ):
        _counts(_open("d.csv", tmp_path), ["grp", "label", "prediction"])


def test_invalid_rows_excluded_by_the_filter_are_fine(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("d.csv", "grp,label,prediction,ok\na,1,0,1\nb,N/A,1,0\n")
    counts = _counts(_open("d.csv", tmp_path, filter="ok = 1"), ["grp", "label", "prediction"])
    assert (counts.rows_read, counts.rows) == (2, 1)


def test_missing_sensitive_values_form_their_own_group(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write(
        "d.jsonl",
        '{"g": "a", "label": 1, "prediction": 1}\n{"g": null, "label": 0, "prediction": 1}\n',
    )
    counts = _counts(_open("d.jsonl", tmp_path), ["g", "label", "prediction"])
    assert counts.frame["g"].isna().sum() == 1
    assert counts.frame["g"].dropna().tolist() == ["a"]


def test_reader_options_are_passed_to_duckdb(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("d.txt", "grp;label;prediction\na;1;0\n")
    counts = _counts(
        _open("d.txt", tmp_path, format="csv", options={"delim": ";"}),
        ["grp", "label", "prediction"],
    )
    assert counts.rows == 1


def test_invalid_value_in_the_second_file_names_that_file(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("logs/a.csv", "grp,label,prediction\na,1,0\n")
    bad = write("logs/b.csv", "grp,label,prediction\na,1,0\na,1,7\n")
    with pytest.raises(EvidenceError) as info:
        _counts(_open("logs/*.csv", tmp_path), ["grp", "label", "prediction"])
    assert info.value.location is not None and info.value.location.path == str(bad)
    assert "'prediction' must be 0 or 1, found '7' in row 2, line 3" in info.value.message


def test_progress_reaches_one(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT (i % 7)::VARCHAR AS grp, i % 2 AS label, (i * 7) % 3 = 0 AS prediction "
        f"FROM range(3000000) t(i)) TO '{tmp_path}/big.parquet'"
    )
    seen: list[float] = []
    counts = _counts(
        _open("big.parquet", tmp_path),
        ["grp", "label", "prediction"],
        progress=lambda name, f: seen.append(f),
    )
    assert counts.rows == 3_000_000
    assert seen and seen[-1] == 1.0
    assert seen == sorted(seen)


def test_score_passes_report_progress_under_their_own_labels(tmp_path: Path) -> None:
    from ethicsgate.policy.models import FairnessRule
    from ethicsgate.rules.fairness_scan import scan_fairness_evidence

    duckdb.sql(
        f"COPY (SELECT (i % 7)::VARCHAR AS grp, i % 2 AS label, (hash(i) % 1000003) / 1000003.0 "
        f"AS score FROM range(3000000) t(i)) TO '{tmp_path}/scores.parquet'"
    )
    rule = FairnessRule.model_validate(
        {
            "id": "r",
            "kind": "fairness",
            "dataset": "ev",
            "severity": "info",
            "sensitive_features": ["grp"],
            "impact_ratio": "scoring",
            "score_metrics": ["roc_auc"],
        }
    )
    seen: dict[str, list[float]] = {}
    evidence = _open("scores.parquet", tmp_path)
    try:
        scan_fairness_evidence(
            evidence,
            [rule],
            progress=lambda name, f: seen.setdefault(name, []).append(f),
        )
    finally:
        evidence.engine.close()
    # binned ROC AUC and the median: the profile's histogram serves both (two passes)
    assert set(seen) == {"ev (score profile)", "ev"}
    assert all(values[-1] == 1.0 and values == sorted(values) for values in seen.values())


def test_unsupported_type_for_a_binary_role(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("d.csv", "grp,label,prediction\na,2024-01-01,0\n")
    with pytest.raises(EvidenceError, match="must be 0/1 or true/false"):
        _counts(_open("d.csv", tmp_path), ["grp", "label", "prediction"])


def test_grouped_counts_equal_a_plain_python_count(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """The two-level scan (hash groups, then normalised groups) against a loop over the rows.

    Spellings of one value (' TRUE', 'true', '1', '1.0') and integer groups that become the
    same text must land in one group; NULL groups stay apart from the text 'None'.
    """
    import random
    from collections import Counter

    import pandas as pd

    rng = random.Random(7)
    spellings = {1: ["1", "true", " TRUE", "1.0"], 0: ["0", "false", "False ", "0.0"]}
    groups = ["a", "b", "None", ""]
    lines, expected = [], Counter()
    for _ in range(5_000):
        group = rng.choice(groups)
        number = rng.choice([1, 2])
        label, pred = rng.randint(0, 1), rng.randint(0, 1)
        kept = rng.random() < 0.9
        cell = "" if group == "" else group
        lines.append(f"{cell},{number},{rng.choice(spellings[label])},{pred},{int(kept)}")
        if kept:
            expected[(None if group == "" else group, str(number), label, pred)] += 1
    write("d.csv", "grp,num,label,prediction,ok\n" + "\n".join(lines) + "\n")
    counts = _counts(
        _open("d.csv", tmp_path, filter="ok = 1", options={"all_varchar": True}),
        ["grp", "num", "label", "prediction"],
    )
    got = Counter()
    for row in counts.frame.itertuples(index=False):
        got[
            (None if pd.isna(row.grp) else row.grp, row.num, int(row.label), int(row.prediction))
        ] += int(row.n)
    assert got == expected
    assert len(counts.frame) == len(expected)  # one row per normalised group, none split
    assert (counts.rows_read, counts.rows) == (5_000, sum(expected.values()))


def _collide_with(target: str) -> str:
    """Return plain ASCII text (no CSV quoting needed), as long as ``target``, same ``hash()``.

    Two free 8-byte blocks, then the block that maps their state onto the target's state
    after the same number of blocks (the multiply is invertible); the tail bytes are shared.
    """
    import random

    mask, k_inv = 2**64 - 1, pow(0xD6E8FEB86659FD93, -1, 2**64)
    raw = target.encode()
    full = len(raw) - len(raw) % 8
    goal = _duckdb_string_hash_state(raw[:full], len(raw))  # after the target's full blocks
    rng = random.Random(2026)
    import string

    allowed = set((string.ascii_letters + string.digits + "-_.:;!?()/+*=").encode())
    printable = bytes(sorted(allowed))
    while True:
        head = bytes(rng.choice(printable) for _ in range(full - 8))
        state = _duckdb_string_hash_state(head, len(raw))
        block = (state ^ ((goal * k_inv) & mask)).to_bytes(8, "little")
        if all(b in allowed for b in block):
            return (head + block + raw[full:]).decode()


def _duckdb_string_hash_state(blocks: bytes, length: int) -> int:
    """DuckDB's string hash state after whole 8-byte blocks (duckdb 2.0: xor, then multiply)."""
    mask, k = 2**64 - 1, 0xD6E8FEB86659FD93
    state = (0xE17A1465 ^ (length * 0xC6A4A7935BD1E995)) & mask
    for i in range(0, len(blocks), 8):
        state = ((state ^ int.from_bytes(blocks[i : i + 8], "little")) * k) & mask
    return state


def test_crafted_hash_collisions_do_not_merge_groups(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    """A category crafted to collide with another under DuckDB's hash() stays its own group.

    DuckDB's string hash is fast, not cryptographic: text with the same hash() as a real
    category is easy to make. The grouped scan keys its hash with a secret per scan, so such
    a value (say, typed into a free-text field) cannot merge into, or relabel, a real group.
    """
    target = "Black or African American"
    crafted = _collide_with(target)
    con = duckdb.connect()
    assert crafted != target and len(crafted) == len(target)
    # the precondition: unkeyed, DuckDB cannot tell the two apart by hash
    assert con.sql("SELECT hash(?) = hash(?)", params=[crafted, target]).fetchall() == [(True,)]
    rows = [f"{target},1,1"] * 40 + [f"{crafted},1,1"] * 2 + ["White,0,1"] * 5
    write("d.csv", "race,label,prediction\n" + "\n".join(rows) + "\n")
    counts = _counts(_open("d.csv", tmp_path), ["race", "label", "prediction"])
    got = {row.race: int(row.n) for row in counts.frame.itertuples(index=False)}
    assert got == {target: 40, crafted: 2, "White": 5}


@pytest.mark.parametrize(
    ("text", "line", "fields"),
    [
        ("grp,label,prediction\na,1,0,extra\nb,0,1\n", 2, 4),  # DuckDB: one column named the header
        ("grp,label,prediction\na,1,0\nb,0\n", 3, 2),
    ],
)
def test_ragged_csv_names_its_first_bad_line(
    write: Callable[[str, str], Path], tmp_path: Path, text: str, line: int, fields: int
) -> None:
    write("d.csv", text)
    with pytest.raises(EvidenceError) as caught:
        _counts(_open("d.csv", tmp_path), ["grp", "label", "prediction"])
    assert caught.value.location == Location(str(tmp_path / "d.csv"), line)
    assert f"line {line} has {fields} fields where the header has 3" in caught.value.message
    assert "null_padding" in (caught.value.hint or "")


def test_an_empty_csv_is_named_empty_not_a_missing_column(tmp_path: Path) -> None:
    # found by QA: DuckDB reads 0 bytes as one column "column0", and every role was "missing"
    (tmp_path / "d.csv").write_bytes(b"")
    with pytest.raises(EvidenceError, match="the file is empty") as caught:
        _open("d.csv", tmp_path).columns()
    assert caught.value.location == Location(str(tmp_path / "d.csv"))


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_csv_header_naming_two_different_columns_alike_is_refused(
    tmp_path: Path, delimiter: str
) -> None:
    # found by QA: DuckDB renames the second "group" group_1 and the rules read the first
    lines = [["id", "group", "group", "offered"], ["1", "a", "a", "1"], ["2", "b", "x", "1"]]
    (tmp_path / "d.csv").write_text("".join(delimiter.join(line) + "\n" for line in lines))
    with pytest.raises(EvidenceError, match="names column 'group' twice") as caught:
        _open("d.csv", tmp_path).columns()
    assert "fields 2 and 3) and the two differ" in caught.value.message
    assert caught.value.location == Location(str(tmp_path / "d.csv"), 1)


def test_a_csv_header_naming_a_column_twice_in_two_cases_is_refused(tmp_path: Path) -> None:
    # DuckDB's names ignore case: "score" after "Score" became score_1, and the role read Score
    (tmp_path / "d.csv").write_text("id,Score,score\n1,0.1,0.9\n")
    with pytest.raises(EvidenceError, match="as 'Score' and 'score'"):
        _open("d.csv", tmp_path).columns()


def test_a_csv_header_repeating_a_column_with_the_same_values_is_read(tmp_path: Path) -> None:
    # ProPublica's COMPAS file repeats decile_score and priors_count, values equal
    (tmp_path / "d.csv").write_text("id,score,n,score\n1,3,,3\n2,7,1,7\n3,,2,\n")
    names = [n for n, _ in _open("d.csv", tmp_path).columns()]
    assert names == ["id", "score", "n", "score_1"]


def test_a_column_really_named_like_a_renamed_one_is_read(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("id,group,group_1\n1,a,x\n")
    assert [n for n, _ in _open("d.csv", tmp_path).columns()] == ["id", "group", "group_1"]


def test_a_csv_in_another_encoding_names_its_first_bad_byte_and_the_option(
    tmp_path: Path,
) -> None:
    (tmp_path / "d.csv").write_bytes("id,group\n1,a\n2,Müller\n".encode("latin-1"))
    with pytest.raises(EvidenceError, match="line 3 is not UTF-8") as caught:
        _open("d.csv", tmp_path).columns()
    assert caught.value.location == Location(str(tmp_path / "d.csv"), 3, 4)
    assert "byte 0xfc" in caught.value.message
    assert "options: {encoding: latin-1}" in (caught.value.hint or "")
    # the fix the hint gives reads the file
    fixed = _open("d.csv", tmp_path, options={"encoding": "latin-1"})
    assert [n for n, _ in fixed.columns()] == ["id", "group"]


def test_a_score_read_as_text_names_the_first_value_that_is_no_number(tmp_path: Path) -> None:
    # found by QA: the error named no row, and its CAST hint failed on the same value
    (tmp_path / "d.csv").write_text("grp,s\na,0.5\nb,0.25\na,high\nb,n/a\n")
    with pytest.raises(EvidenceError) as caught:
        _open("d.csv", tmp_path, columns={"score": "s"}).score_profile()
    assert "found 'high' in row 3, line 4, column s (2 such rows" in caught.value.message
    assert caught.value.location == Location(str(tmp_path / "d.csv"))
    # rows a filter leaves out are not named: the hint's TRY_CAST reads the rest
    kept = _open("d.csv", tmp_path, columns={"score": "s"}, filter="s NOT IN ('high', 'n/a')")
    with pytest.raises(EvidenceError, match="'score' must be numeric") as caught:
        kept.score_profile()
    assert caught.value.hint == 'map score to a number, e.g. score: "TRY_CAST(s AS DOUBLE)"'
    fixed = _open("d.csv", tmp_path, columns={"score": "TRY_CAST(s AS DOUBLE)"}, filter="grp = 'b'")
    with pytest.raises(EvidenceError, match="found NULL .missing. in row 4, line 5"):
        fixed.score_profile()  # 'n/a' is NULL after TRY_CAST: its row is still named


def test_one_column_csv_with_a_delimiter_in_its_quoted_name_is_read(
    write: Callable[[str, str], Path], tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    write("d.csv", '"a,b"\nx\ny\n')
    assert _open("d.csv", tmp_path).columns() == [("a,b", "VARCHAR")]


def test_scores_spanning_more_than_a_double_are_located_bad_input(
    write: Callable[[str, str], Path], tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    write("d.csv", "grp,score\na,1e308\nb,-1e308\na,0.5\n")
    with pytest.raises(EvidenceError, match="a span too wide for a 64-bit float") as caught:
        _open("d.csv", tmp_path).score_profile()
    assert "rescale the score" in (caught.value.hint or "")


def test_json_lines_with_mixed_types_read_values_not_their_json(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    # a list in one row makes DuckDB type the field JSON; the text values keep no quotes, JSON
    # null is a missing value, and 0/1 roles accept each value as the reader's spellings
    write(
        "d.jsonl",
        '{"grp": ["a", "b"], "label": 1, "prediction": "1"}\n'
        '{"grp": "b", "label": "0", "prediction": 0}\n'
        '{"grp": null, "label": true, "prediction": "false"}\n',
    )
    frame = _counts(_open("d.jsonl", tmp_path), ["grp", "label", "prediction"]).frame
    grp = [None if pd.isna(g) else g for g in frame["grp"]]
    rows = set(zip(grp, frame["label"], frame["prediction"], strict=True))
    assert rows == {('["a","b"]', 1, 1), ("b", 0, 0), (None, 1, 0)}


@pytest.mark.parametrize(
    ("text", "line", "column", "problem"),
    [
        # an unclosed string: DuckDB names the line after it
        ('{"grp": "a", "label": 1}\n{"grp": "b", "lab\n{"grp": "c", "label": 0}\n', 2, 18,
         "Invalid control character"),
        ('{"grp": "a", "label": 1}\n\n{"grp": oops, "label": 0}\n', 3, 9, "Expecting value"),
    ],
)  # fmt: skip
def test_malformed_json_lines_name_the_broken_line(
    write: Callable[[str, str], Path],
    tmp_path: Path,
    text: str,
    line: int,
    column: int,
    problem: str,
    con: duckdb.DuckDBPyConnection,
) -> None:
    write("d.jsonl", text)
    with pytest.raises(EvidenceError) as caught:
        _open("d.jsonl", tmp_path).columns()
    assert caught.value.location == Location(str(tmp_path / "d.jsonl"), line, column)
    assert f"line {line} is not valid JSON: {problem}" in caught.value.message


def test_list_and_mapping_options_reach_duckdb(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    # DuckDB sniffs a column of only 'F' as BOOLEAN: the category would read 'false'
    write("d.csv", "sex,label,prediction\nF,1,0\nF,0,1\n")
    roles = ["sex", "label", "prediction"]
    assert set(_counts(_open("d.csv", tmp_path), roles).frame["sex"]) == {"false"}
    typed = _open("d.csv", tmp_path, options={"types": {"sex": "VARCHAR"}})
    assert set(_counts(typed, roles).frame["sex"]) == {"F"}
    named = _open(
        "d.csv",
        tmp_path,
        options={"names": ["gender", "label", "prediction"], "types": {"gender": "VARCHAR"}},
    )
    assert set(_counts(named, ["gender", "label", "prediction"]).frame["gender"]) == {"F"}


@pytest.mark.parametrize(
    ("values", "shown", "mapping"),
    [
        # DuckDB's CSV sniffer reads yes/no and t/f as BOOLEAN: they are read as written
        (["yes", "no", "yes"], "'no', 'yes'", "label = 'yes'"),
        (["t", "f", "t"], "'f', 't'", "label = 't'"),
        (["hired", "rejected", "hired"], "'hired', 'rejected'", "label = 'hired'"),
        (["A", "B", "A"], "'A', 'B'", "label = 'A'\" with the value that means 1"),
        # numbers as the user writes them, not as text
        (["2", "1", "0"], "0, 1, 2", 'label = 1"'),
        (["2.0", "1.0", "0.0"], "0.0, 1.0, 2.0", 'label = 2.0" with the value that means 1'),
    ],
)
def test_labels_are_read_as_written_and_the_error_names_the_mapping(
    write: Callable[[str, str], Path],
    tmp_path: Path,
    values: list[str],
    shown: str,
    mapping: str,
) -> None:
    rows = "\n".join(f"g{i},{v},0" for i, v in enumerate(values))
    write("d.csv", "grp,label,prediction\n" + rows + "\n")
    with pytest.raises(EvidenceError) as info:
        _counts(_open("d.csv", tmp_path), ["grp", "label", "prediction"])
    assert "'label' must be 0 or 1, found" in info.value.message
    assert "in row 1, line 2" in info.value.message
    assert f"label holds {shown}" in (info.value.hint or "")
    assert f'label: "{mapping}' in (info.value.hint or "")


def test_a_mapped_condition_over_yes_no_is_read_as_the_mapping_says(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("d.csv", "grp,outcome,prediction\na,yes,0\nb,no,1\nc,yes,1\n")
    counts = _counts(
        _open("d.csv", tmp_path, columns={"label": "outcome = 'yes'"}),
        ["grp", "label", "prediction"],
    )
    assert counts.frame.sort_values("grp")["label"].tolist() == [1, 0, 1]


@pytest.mark.parametrize(
    ("text", "options"),
    [
        # a quote in a column name and in a value, a doubled quote, a space: the sniffed
        # columns reach DuckDB as SQL literals, not pasted from sniff_csv's prompt text
        ('id,o\'name,"we""ird",x y,label\n1,a\'b,"c,d",2,1\n2,e,f,3,0\n', {}),
        ("id;grp;when;label\n1;a;2024-01-31;1\n2;NA;2024-02-01;0\n", {"nullstr": "NA"}),
        ("# a comment\nid|grp|label\n1|a|1\n", {"delim": "|", "skip": 1}),
        ("1,a,1\n2,b,0\n", {"header": False, "names": ["id", "grp", "label"]}),
        ("id,grp,label\n1,F,1\n2,F,0\n", {"types": {"grp": "VARCHAR"}}),
        ("id,grp,label\n1,a,1\n2,b,0\n3,c\n", {"null_padding": True}),
    ],
)
def test_a_csv_sniffed_once_reads_as_auto_detection_does(
    tmp_path: Path, text: str, options: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "d.csv").write_text(text, encoding="utf-8")
    ev = _open("d.csv", tmp_path, options=options)
    try:
        sniffed_sql = ev.source_sql()
        assert "auto_detect = false" in sniffed_sql
        monkeypatch.setattr(ev, "_sniffed_csv", lambda file: None)  # DuckDB's auto-detection
        auto_sql = ev.source_sql()
        assert "auto_detect" not in auto_sql
        sniffed = ev.con.sql(f"SELECT * FROM {sniffed_sql}")
        auto = ev.con.sql(f"SELECT * FROM {auto_sql}")
        assert sniffed.columns == auto.columns
        assert [str(t) for t in sniffed.types] == [str(t) for t in auto.types]
        assert sniffed.fetchall() == auto.fetchall()
    finally:
        ev.engine.close()


def test_a_csv_is_sniffed_once_however_often_it_is_read(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    write("d.csv", "grp,label,prediction\na,1,0\nb,0,1\n")
    ev = _open("d.csv", tmp_path)
    statements: list[str] = []
    con = ev.con

    class Recording:  # the engine's connection, recording each statement
        def __getattr__(self, name: str) -> object:
            return getattr(con, name)

        def sql(self, query: str, *args: object, **kwargs: object) -> object:
            statements.append(query)
            return con.sql(query, *args, **kwargs)

    ev.engine._con = Recording()  # type: ignore[assignment]
    try:
        for _ in range(3):
            ev.columns()
            counts = ev.grouped_counts(
                roles=["grp", "label", "prediction"], binary_roles=["label", "prediction"]
            )
            assert counts.rows == 2
    finally:
        ev.engine._con = con
        ev.engine.close()
    reads = [q for q in statements if "read_csv(" in q]
    assert len([q for q in statements if "sniff_csv(" in q]) == 1
    assert len(reads) >= 6 and all("auto_detect = false" in q for q in reads)


def test_a_csv_the_sniffer_cannot_read_keeps_its_located_error(
    write: Callable[[str, str], Path], tmp_path: Path
) -> None:
    (tmp_path / "d.csv").write_bytes(b"")  # sniff_csv fails: read_csv auto-detects as before
    with pytest.raises(EvidenceError) as info:
        _counts(_open("d.csv", tmp_path), ["grp", "label", "prediction"])
    assert "d.csv" in str(info.value.location or "") + str(info.value)


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        pytest.param(
            {
                "columns": {
                    "label": "label) FROM (SELECT 1 AS label); CREATE TABLE pwned AS SELECT (1"
                }
            },
            ("columns", "label"),
            id="mapping",
        ),
        pytest.param(
            {
                "filter": "true), false) FROM (SELECT 1); CREATE TABLE pwned AS SELECT coalesce((true"
            },
            ("filter",),
            id="filter",
        ),
        pytest.param(
            {"columns": {"label": "label -- the rest of the line"}},
            ("columns", "label"),
            id="trailing-line-comment",
        ),
        pytest.param(
            # an open quote the next mapping closes: what follows is SQL of the query
            {
                "columns": {
                    "grp": "grp || x'",
                    "label": "'), 1 AS label FROM (SELECT 1); CREATE TABLE pwned AS SELECT (''",
                }
            },
            ("columns", "grp"),
            id="quote-closed-by-the-next-mapping",
        ),
    ],
)
def test_a_mapping_that_is_not_one_expression_is_refused_before_any_query_runs(
    write: Callable[[str, str], Path], tmp_path: Path, spec: dict[str, object], key: tuple[str, ...]
) -> None:
    """Each mapping is spliced into queries as ``(expr)``: it must not close that or add a statement."""
    write("d.csv", "grp,label,prediction\na,1,0\nb,0,1\n")
    located: list[tuple[str, ...]] = []

    def locate(loc: object) -> Location:
        located.append(tuple(loc))  # type: ignore[arg-type]
        return Location("audit.yaml", 7, 5)

    ev = open_evidence(
        "ev",
        EvidenceSpec.model_validate({"path": "d.csv", **spec}),
        base_dir=tmp_path,
        locate=locate,
    )
    try:
        with pytest.raises(EvidenceError, match="is not one SQL expression") as raised:
            ev.grouped_counts(roles=["grp", "label", "prediction"], binary_roles=["label"])
        assert located[-1] == key and raised.value.hint
        tables = ev.con.sql("SELECT table_name FROM information_schema.tables").fetchall()
        assert ("pwned",) not in tables, "the second statement ran"
    finally:
        ev.engine.close()


def test_a_csv_cut_short_is_named_by_its_line_where_the_sniffer_gives_up(
    tmp_path: Path,
) -> None:
    # found by QA: an export cut short while it was written (its last row half there) stopped
    # the audit with DuckDB's "It was not possible to automatically detect the CSV parsing
    # dialect The search space used was:", naming no line
    rows = "".join(
        f"A{i:05d},{'FM'[i % 2]},{40 + i % 50},{i % 2},{i % 3 == 0}\n" for i in range(3000)
    )
    (tmp_path / "d.csv").write_text("id,sex,score,advanced,hired\n" + rows + "A0\n")
    with pytest.raises(EvidenceError) as caught:
        _open("d.csv", tmp_path, columns={"prediction": "advanced"}).grouped_counts(
            roles=["sex", "prediction"], binary_roles=["prediction"]
        )
    assert caught.value.message == (
        "evidence 'ev': line 3002 has 1 field where the header has 5, so the file cannot be "
        "read as a table"
    )
    assert caught.value.location == Location(str(tmp_path / "d.csv"), 3002)
    # the fix the hint gives reads the file, the short line's missing fields empty
    hint = caught.value.hint or ""
    assert "options: {null_padding: true, strict_mode: false} under evidence.ev" in hint
    padded = _open("d.csv", tmp_path, options={"null_padding": True, "strict_mode": False})
    assert [n for n, _ in padded.columns()] == ["id", "sex", "score", "advanced", "hired"]
