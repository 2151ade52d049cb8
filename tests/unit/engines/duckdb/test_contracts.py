"""Data contracts: DuckDB's and GX's counts equal plain counts, chunking changes nothing.

DuckDB validates by default; Great Expectations (``validator="great_expectations"``) is the
reference its results are held to, field by field. Failures are located.
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.conftest import AUDIT, POLICY

from ethicsgate.audit import run_audit
from ethicsgate.audit.spec import load_audit_spec
from ethicsgate.cli import cli
from ethicsgate.engines.duckdb import open_evidence
from ethicsgate.engines.duckdb.contracts import SQL_ENGINE, Validator, run_contract
from ethicsgate.errors import PolicyError
from ethicsgate.policy import load_policy
from ethicsgate.policy.models import DataQualityRule

CONTRACT = """
  - id: contract
    kind: data_quality
    dataset: predictions
    safe_columns: [prediction]
    expectations:
{expectations}
"""
EXPECTATIONS = """\
      - {expect: in_set, column: prediction, values: [0, 1]}
      - {expect: not_null, column: email}
      - {expect: unique, column: id}
      - {expect: timestamp, column: ts}
      - {expect: regex, column: email, pattern: "@"}
      - {expect: between, column: age, min: 18, max: 99}
      - {expect: row_count_between, min: 1, max: 1000}
"""


def _policy(expectations: str = EXPECTATIONS, extra: str = "") -> str:
    return POLICY + CONTRACT.format(expectations=expectations.rstrip("\n")) + extra


def _rows(n: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        rows.append(
            {
                "id": rng.randrange(n * 3),
                "group": rng.choice("ab"),
                "label": rng.randrange(2),
                "prediction": rng.choice([0, 1, 1, 0, 2]),
                "email": rng.choice(["a@x.org", "bob", "", "c@y.com"]),
                "ts": rng.choice(["2025-01-01T10:00:00Z", "2025-02-30", "2025-03-01 08:00", ""]),
                "age": rng.choice([17, 30, 45, 120, 64]),
            }
        )
    return rows


def _csv(rows: list[dict[str, object]]) -> str:
    header = ",".join(rows[0])
    return header + "\n" + "".join(",".join(str(v) for v in r.values()) + "\n" for r in rows)


def _oracle(rows: list[dict[str, object]]) -> dict[str, int]:
    """Count failing rows with a plain loop (empty CSV fields read as missing)."""
    ids = [r["id"] for r in rows]
    dup = {v for v in ids if ids.count(v) > 1}

    def ts_ok(text: object) -> bool:
        if text == "":
            return True
        return text != "2025-02-30"  # the only unparsable value the generator writes

    return {
        "in_set": sum(r["prediction"] not in (0, 1) for r in rows),
        "not_null": sum(r["email"] == "" for r in rows),
        "unique": sum(r["id"] in dup for r in rows),
        "timestamp": sum(not ts_ok(r["ts"]) for r in rows),
        "regex": sum(r["email"] != "" and "@" not in str(r["email"]) for r in rows),
        "between": sum(not 18 <= int(r["age"]) <= 99 for r in rows),  # type: ignore[call-overload]
        "row_count_between": 0,
    }


def _contract(  # type: ignore[no-untyped-def]
    spec: Path, chunk_rows: int, validator: Validator = "great_expectations"
):
    audit = load_audit_spec(spec)
    rule = next(r for r in audit.policy.pack.rules if isinstance(r, DataQualityRule))
    evidence = open_evidence(
        "predictions",
        audit.spec.evidence["predictions"],
        base_dir=audit.base_dir,
        locate=lambda loc: audit.document.locate(("evidence", "predictions", *loc)),
    )
    try:
        return run_contract(evidence, rule, chunk_rows=chunk_rows, validator=validator)
    finally:
        evidence.engine.close()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_equal_a_plain_loop_whatever_the_chunk_size(
    make_audit: Callable[..., Path], seed: int
) -> None:
    rows = _rows(60, seed)
    spec = make_audit(_csv(rows), policy=_policy())
    whole = _contract(spec, 1_000_000)
    chunked = _contract(spec, 7)
    assert chunked.chunks == 9 and whole.chunks == 1
    expected = _oracle(rows)
    for a, b in zip(whole.expectations, chunked.expectations, strict=True):
        assert a.unexpected == b.unexpected == expected[a.expect], a.expect
        assert a.success == b.success == (expected[a.expect] == 0)
        assert a.rows == b.rows == 60
    sql = _contract(spec, 7, "duckdb")
    assert (sql.chunks, sql.engine, sql.rows) == (1, SQL_ENGINE, 60)
    for c in sql.expectations:
        assert c.unexpected == expected[c.expect], c.expect
        assert c.success == (expected[c.expect] == 0)
        assert c.rows == 60


EDGES = """      - {expect: in_set, column: prediction, values: [0, 1, "x"]}
      - {expect: in_set, column: score, values: [1, true, 2.5]}
      - {expect: in_set, column: email, values: [1, true, "a@x.org"]}
      - {expect: not_null, column: score}
      - {expect: between, column: score, min: 0, max: 2, mostly: 0.5}
      - {expect: between, column: age, max: 64}
      - {expect: regex, column: email, pattern: "^(?!bob)[a-z]+@"}
      - {expect: regex, column: email, pattern: "\\\\d$"}
      - {expect: timestamp, column: ts}
      - {expect: unique, column: id}
      - {expect: row_count_between, min: 1, max: 10}
"""


def _edge_rows(n: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows = _rows(n, seed)
    for row in rows:
        row["score"] = rng.choice(["1.0", "2.5", "nan", "", "3", "0", "-1.5", "inf"])
        row["email"] = rng.choice(["a@x.org", "bob@x.org", "", "zz9", "true", "1", "c@y.com"])
    return rows


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_duckdb_validates_as_great_expectations_does(
    make_audit: Callable[..., Path], seed: int
) -> None:
    """Every field of every expectation's result equals GX's, locations included.

    Edge cases: NaN and infinity (NaN is missing to both), numbers, booleans and text in one
    value set, a lookahead (Python's re, not RE2), ``mostly``, a failing row count. Examples:
    DuckDB shows the first max_examples distinct failing values; GX, in one chunk, the distinct
    ones among the first max_examples failing values, which begin DuckDB's list (``unique``:
    the most duplicated values, of which GX returned half).
    """
    spec = make_audit(_csv(_edge_rows(80, seed)), policy=_policy(EDGES))
    gx = _contract(spec, 1_000_000)
    sql = _contract(spec, 13, "duckdb")
    assert sql.success == gx.success and sql.rows == gx.rows == 80
    assert any(e.expect == "regex" and e.unexpected for e in sql.expectations)
    for a, b in zip(sql.expectations, gx.expectations, strict=True):
        assert a.examples[: len(b.examples)] == b.examples, a.expect
        shown = re.compile(r" \(e\.g\. [^)]*\)")
        assert shown.sub("", a.message) == shown.sub("", b.message), a.expect
        update = {"examples": b.examples, "message": b.message}
        assert a.model_copy(update=update) == b, a.expect


def test_failed_contract_makes_guarded_rules_error_never_pass(
    make_audit: Callable[..., Path], frozen_clock: Callable[..., object]
) -> None:
    data = "id,group,label,prediction\n1,a,1,1\n2,a,0,0\n3,b,1,1\n3,b,0,0\n"
    spec = make_audit(data, policy=_policy("      - {expect: unique, column: id}\n"))
    result = run_audit(spec)
    by_id = {r.id: r for r in result.rules}
    assert by_id["contract"].status == "fail"
    assert by_id["parity"].status == "error"  # the data would pass parity: still not a pass
    assert "data contract 'contract'" in by_id["parity"].message
    assert "expect_column_values_to_be_unique on 'id': 2 of 4" in by_id["parity"].message
    assert result.status == "fail"
    (contract,) = result.contracts
    assert contract.guards == ["parity"]
    assert contract.expectations[0].location == f"{spec.parent / 'data.csv'}:4 (row 3)"


def test_passing_contract_lets_rules_run(make_audit: Callable[..., Path]) -> None:
    data = "id,group,label,prediction\n1,a,1,1\n2,a,0,0\n3,b,1,1\n4,b,0,0\n"
    spec = make_audit(data, policy=_policy("      - {expect: unique, column: id}\n"))
    result = run_audit(spec)
    assert [r.status for r in result.rules] == ["pass", "pass"]
    assert result.contracts[0].success


def test_guards_can_be_narrowed_to_none(make_audit: Callable[..., Path]) -> None:
    data = "id,group,label,prediction\n1,a,1,1\n1,a,0,0\n3,b,1,1\n4,b,0,0\n"
    policy = _policy("      - {expect: unique, column: id}\n").replace(
        "    kind: data_quality\n", "    kind: data_quality\n    guards: []\n"
    )
    result = run_audit(make_audit(data, policy=policy))
    assert {r.id: r.status for r in result.rules} == {"parity": "pass", "contract": "fail"}


def test_examples_are_masked_unless_the_column_is_safe(make_audit: Callable[..., Path]) -> None:
    data = "id,group,label,prediction,email\n1,a,1,7,alice.secret\n2,b,0,0,b@x.org\n"
    expectations = (
        "      - {expect: in_set, column: prediction, values: [0, 1]}\n"
        "      - {expect: regex, column: email, pattern: '@'}\n"
    )
    contract = _contract(make_audit(data, policy=_policy(expectations)), 1000)
    safe, unsafe = contract.expectations
    assert safe.examples == ["7"] and not safe.masked
    assert unsafe.examples == ["<masked text, 12 chars>"] and unsafe.masked
    assert "alice" not in json.dumps(contract.model_dump())


def test_mostly_allows_a_share_of_failures(make_audit: Callable[..., Path]) -> None:
    data = "id,group,label,prediction\n" + "".join(f"{i},a,1,1\n" for i in range(19)) + "19,a,1,0\n"
    exp = "      - {expect: in_set, column: prediction, values: [1], mostly: 0.95}\n"
    (result,) = _contract(make_audit(data, policy=_policy(exp)), 1000).expectations
    assert result.success and result.unexpected == 1 and result.unexpected_percent == 5.0


def test_report_shows_the_contract(make_audit: Callable[..., Path], tmp_path: Path) -> None:
    data = "id,group,label,prediction\n1,a,1,1\n1,a,0,0\n"
    spec = make_audit(data, policy=_policy("      - {expect: unique, column: id}\n"))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(out)])
    assert result.exit_code == 1
    md = (out / "report.md").read_text()
    assert "## Data contracts" in md and "expect_column_values_to_be_unique" in md
    html = (out / "report.html").read_text()
    assert 'id="data-contracts"' in html and "<masked number>" not in html
    assert "&lt;masked number&gt;" in html  # escaped, never markup


@pytest.mark.parametrize(
    ("expectation", "message"),
    [
        ("{expect: in_set, column: prediction}", "expect in_set needs a non-empty 'values' list"),
        ("{expect: between, column: age}", "expect between needs 'min', 'max' or both"),
        ("{expect: row_count_between, column: age, min: 1}", "leave out 'column'"),
        ("{expect: regex, column: email, pattern: '(['}", "is not a regular expression"),
        ("{expect: unique, column: id, mostly: 0.5}", "takes no 'mostly'"),
        ("{expect: not_nul, column: id}", "not_null"),
    ],
)
def test_bad_expectations_are_located_policy_errors(
    write: Callable[[str, str], Path], expectation: str, message: str
) -> None:
    path = write("policy.yaml", _policy(f"      - {expectation}\n"))
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace("[", r"\[")) as info:
        load_policy(path)
    assert info.value.location is not None and info.value.location.line is not None


def test_unknown_guard_is_a_located_policy_error(write: Callable[[str, str], Path]) -> None:
    policy = _policy("      - {expect: unique, column: id}\n") + "    guards: [parity, nope]\n"
    with pytest.raises(PolicyError, match="guards 'nope', which is not a rule") as info:
        load_policy(write("policy.yaml", policy))
    assert info.value.location is not None and info.value.location.line is not None


def test_missing_column_exits_2_located_in_the_audit_spec(
    make_audit: Callable[..., Path],
) -> None:
    spec = make_audit(
        "group,label,prediction\na,1,1\n",
        policy=_policy("      - {expect: not_null, column: email}\n"),
        audit=AUDIT,
    )
    result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(spec.parent / "o")])
    assert result.exit_code == 2
    assert "evidence 'predictions' has no column 'email'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_no_progress_bars_on_stderr(make_audit: Callable[..., Path]) -> None:
    data = "id,group,label,prediction\n1,a,1,1\n2,a,0,0\n3,b,1,1\n4,b,0,0\n"
    spec = make_audit(data, policy=_policy("      - {expect: unique, column: id}\n"))
    proc = subprocess.run(
        [sys.executable, "-m", "ethicsgate", "audit", str(spec), "--out", str(spec.parent / "o")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no tqdm bars, no GX chatter


def test_between_on_text_is_exit_2_never_a_silent_pass(make_audit: Callable[..., Path]) -> None:
    # Great Expectations compares text with numbers without complaint; the contract refuses
    spec = make_audit(
        "id,group,label,prediction,email\n1,a,1,1,x@y.org\n",
        policy=_policy("      - {expect: between, column: email, min: 0, max: 1}\n"),
    )
    result = CliRunner().invoke(cli, ["audit", str(spec), "--out", str(spec.parent / "o")])
    assert result.exit_code == 2
    assert "expect between needs numbers, but 'email'" in result.stderr
    assert "audit.yaml:" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("values", "passes"),
    [
        (["yes", "no", "yes", "no"], False),  # DuckDB's sniffer says BOOLEAN; as written: words
        (["t", "f", "t", "f"], False),
        (["true", "false", "true", "false"], True),  # pandas reads these as booleans too
        ([1, 0, 1, 0], True),
    ],
)
def test_in_set_0_1_checks_values_as_written_on_both_validators(
    make_audit: Callable[..., Path], values: list[object], passes: bool
) -> None:
    """yes/no is not 0/1, although DuckDB's CSV sniffer reads it as true/false (#22 item 8)."""
    rows = [
        {"id": i, "group": "ab"[i % 2], "label": 1, "prediction": v, "email": "a@x.org",
         "ts": "2025-01-01T10:00:00Z", "age": 30}
        for i, v in enumerate(values)
    ]  # fmt: skip
    spec = make_audit(
        _csv(rows), policy=_policy("      - {expect: in_set, column: prediction, values: [0, 1]}")
    )
    for validator in ("duckdb", "great_expectations"):
        result = _contract(spec, 1000, validator)  # type: ignore[arg-type]
        (expectation,) = result.expectations
        assert expectation.success is passes, (validator, values)
        assert expectation.unexpected == (0 if passes else len(values))


@pytest.mark.parametrize("validator", ["duckdb", "great_expectations"])
def test_examples_shown_alike_are_listed_once_and_mostly_follows_the_location(
    make_audit: Callable[..., Path], validator: Validator
) -> None:
    # found by QA: a NaN and an empty score (distinct values, both missing) were both listed
    # as NULL (missing): "e.g. NULL (missing), NULL (missing)"; and "first at data.csv:2
    # (row 1) mostly 0.4 met" ran the location into the verdict
    data = "id,group,label,prediction,score\n1,a,1,1,NaN\n2,a,0,0,\n3,b,1,1,0.5\n4,b,0,0,0.4\n"
    policy = _policy("      - {expect: not_null, column: score, mostly: 0.4}\n")
    spec = make_audit(data, policy=policy)
    (result,) = _contract(spec, 1000, validator).expectations
    assert result.success and result.unexpected == 2
    assert result.examples == ["NULL (missing)"]
    assert result.message.endswith(
        "2 of 4 value(s) unexpected (50.00 %) (e.g. NULL (missing)); "
        f"first at {spec.parent / 'data.csv'}:2 (row 1); mostly 0.4 met"
    ), result.message


COMPAS_CONTRACT = """\
schema_version: 1
id: compas-contract
version: "1"
title: COMPAS data contract
owner: Tests
rules:
  - id: contract
    kind: data_quality
    dataset: predictions
    safe_columns: [race, score_text, c_charge_degree, decile_score]
    expectations:
      - {expect: unique, column: id}
      - {expect: not_null, column: c_jail_in}
      - {expect: timestamp, column: c_jail_in}
      - {expect: timestamp, column: r_offense_date}
      - {expect: in_set, column: race, values: [African-American, Caucasian, Hispanic, Other,
                                                Asian, Native American]}
      - {expect: in_set, column: score_text, values: [Low, Medium, High]}
      - {expect: in_set, column: c_charge_degree, values: [F, M]}
      - {expect: between, column: decile_score, min: 1, max: 10}
      - {expect: between, column: days_b_screening_arrest, min: -30, max: 30}
      - {expect: between, column: age, min: 18, max: 70, mostly: 0.95}
      - {expect: regex, column: c_charge_desc, pattern: "^[A-Z]"}
      - {expect: row_count_between, min: 7000, max: 8000}
"""


def test_compas_contract_equals_pandas_and_great_expectations(write: Callable[..., Path]) -> None:
    """A contract over the real ProPublica file: DuckDB's counts equal pandas' and GX's fields.

    7,214 rows with real gaps: 307 people without a jail entry (their screening-arrest gap is
    missing too), 3,743 without a new offence date, 29 charges without a description, and a
    header that names two columns twice (``decile_score``, ``priors_count``).
    """
    from tests.conftest import PROPUBLICA_CSV

    if not PROPUBLICA_CSV.is_file():
        pytest.skip(f"evidence not shipped: {PROPUBLICA_CSV}")
    import pandas as pd

    write("policy.yaml", COMPAS_CONTRACT)
    spec = write("audit.yaml", AUDIT.replace("data.csv", str(PROPUBLICA_CSV)))
    frame = pd.read_csv(PROPUBLICA_CSV)
    gap = frame["days_b_screening_arrest"].dropna()
    desc = frame["c_charge_desc"].dropna()
    expected = {
        ("unique", "id"): 0,
        ("not_null", "c_jail_in"): 307,
        ("timestamp", "c_jail_in"): 0,
        ("timestamp", "r_offense_date"): 0,
        ("in_set", "race"): 0,
        ("in_set", "score_text"): 0,
        ("in_set", "c_charge_degree"): 0,
        ("between", "decile_score"): 0,
        ("between", "days_b_screening_arrest"): int((~gap.between(-30, 30)).sum()),
        ("between", "age"): int((~frame["age"].between(18, 70)).sum()),
        ("regex", "c_charge_desc"): int((~desc.str.match(r"[A-Z]")).sum()),
        ("row_count_between", None): 0,
    }
    # ProPublica's analysis keeps 6,172 of the 7,214 people: its screening-arrest filter drops
    # the 307 without a gap and those outside +-30 days, and nothing else here
    assert 307 + expected[("between", "days_b_screening_arrest")] == 7_214 - 6_172
    sql = _contract(spec, 1_000_000, "duckdb")
    gx = _contract(spec, 1_000_000)
    assert sql.rows == gx.rows == 7_214
    for a, b in zip(sql.expectations, gx.expectations, strict=True):
        assert a.unexpected == expected[(a.expect, a.column)], (a.expect, a.column)
        assert a.model_copy(update={"examples": b.examples, "message": b.message}) == b
    by = {(e.expect, e.column): e for e in sql.expectations}
    # the first person without a jail entry is pandas' index 3: line 5, the 4th data row
    assert by[("not_null", "c_jail_in")].location == f"{PROPUBLICA_CSV}:5 (row 4)"
    assert by[("between", "age")].success  # 'mostly' 0.95 holds
    assert not sql.success
