"""groups.parquet and groups.csv: every group of report.json, as a table, signed with it."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from tests.conftest import ROOT

from ethicsgate.attest import (
    generate_keypair,
    load_public_key,
    load_signing_key,
    verify_attestation,
)
from ethicsgate.audit import AuditResult, run_audit
from ethicsgate.report import GROUP_COLUMNS, report_files
from ethicsgate.session.audit import run_and_report

Clock = Callable[[], datetime]


@pytest.fixture(scope="module")
def ll144() -> AuditResult:
    """Return the shipped LL144 audit: selection and scoring tables, intervals, tests, AUC."""
    clock = lambda: datetime(2026, 1, 2, 3, 4, 5)  # noqa: E731
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(ROOT)
        return run_audit(ROOT / "audits" / "nyc-ll144-example.yaml", clock=clock)


def _interval(entry: dict[str, Any] | None) -> tuple[Any, Any]:
    return (None, None) if entry is None else (entry["low"], entry["high"])


def _expected_groups(rule_id: str, judged: dict[str, Any], window: str | None) -> list[Any]:
    """Return the rows of the groups of a rule (or of one of its windows) from report.json."""
    rows = []
    failing: dict[str, list[Any]] = {}
    for a in judged["assertions"]:
        failing.setdefault(a["metric"], []).extend(a["failing_groups"])
    for g in judged["groups"]:
        base = {
            "rule": rule_id,
            "table": "groups",
            "group": g["group"],
            "count": g["count"],
            "excluded": g["excluded"],
            "window": window,
        }
        for metric, value in g["metrics"].items():
            test = g["tests"].get(metric)
            low, high = _interval(g["intervals"].get(metric))
            r_low, r_high = _interval(g["ratio_intervals"].get(metric))
            d_low, d_high = _interval(g["difference_intervals"].get(metric))
            rows.append(
                {
                    **base,
                    "metric": metric,
                    "value": value,
                    "value_low": low,
                    "value_high": high,
                    "ratio": g["ratios"].get(metric),
                    "ratio_low": r_low,
                    "ratio_high": r_high,
                    "difference": g["differences"].get(metric),
                    "difference_low": d_low,
                    "difference_high": d_high,
                    "test": test and test["method"],
                    "p_value": test and test["p_value"],
                    "fails": g["group"] in failing.get(metric, []),
                }
            )
        if g.get("score") is not None:
            nothing = dict.fromkeys(GROUP_COLUMNS)
            low, high = _interval(g["score"]["roc_auc_interval"])
            rows.append(
                {
                    **nothing,
                    **base,
                    "metric": "roc_auc",
                    "value": g["score"]["roc_auc"],
                    "value_low": low,
                    "value_high": high,
                    "fails": g["group"] in failing.get("roc_auc", []),
                }
            )
            rows.append(
                {
                    **nothing,
                    **base,
                    "metric": "calibration_error",
                    "value": g["score"]["calibration_error"],
                    "fails": g["group"] in failing.get("calibration_error", []),
                }
            )
    return rows


def _expected(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the table's rows from report.json, by a plain loop over its groups and tables."""
    rows = []
    for rule in report["rules"]:
        rows += _expected_groups(rule["id"], rule, None)
        rows += _expected_impact(rule["id"], rule, None)
        for window in rule.get("windows", []):
            rows += _expected_groups(rule["id"], window, window["label"])
            rows += _expected_impact(rule["id"], window, window["label"])
    return rows


def _expected_impact(rule_id: str, judged: dict[str, Any], window: str | None) -> list[Any]:
    """Return the rows of the LL144 tables of a rule (or of one of its windows)."""
    rows = []
    failing: dict[str, list[Any]] = {}
    for a in judged["assertions"]:
        failing.setdefault(a["metric"], []).extend(a["failing_groups"])
    impact = judged.get("impact_ratio")
    for table in impact["tables"] if impact else []:
        for row in table["rows"]:
            low, high = _interval(row["rate_interval"])
            r_low, r_high = _interval(row["impact_ratio_interval"])
            rows.append(
                {
                    "rule": rule_id,
                    "table": "impact_ratio",
                    "group": row["category"],
                    "count": row["applicants"],
                    "excluded": row["excluded"],
                    "metric": f"{impact['kind']}_rate",
                    "value": row["rate"],
                    "value_low": low,
                    "value_high": high,
                    "ratio": row["impact_ratio"],
                    "ratio_low": r_low,
                    "ratio_high": r_high,
                    "difference": None,
                    "difference_low": None,
                    "difference_high": None,
                    "test": row["test"] and row["test"]["method"],
                    "p_value": row["test"] and row["test"]["p_value"],
                    "fails": row["category"] in failing.get("impact_ratio", []),
                    "window": window,
                }
            )
    return rows


def _from_csv(data: bytes) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    assert reader.fieldnames == list(GROUP_COLUMNS)
    rows = []
    for raw in reader:
        row: dict[str, Any] = {}
        for name, kind in GROUP_COLUMNS.items():
            text = raw[name]
            if kind == "bool":
                assert text in ("true", "false")
                row[name] = text == "true"
            elif text == "":
                row[name] = None
            else:
                row[name] = {"float64": float, "int64": int, "string": str}[kind](text)
        rows.append(row)
    return rows


def _parsed_groups(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**row, "group": json.loads(row["group"])} for row in rows]


def test_both_tables_hold_every_group_of_report_json_exactly(ll144: AuditResult) -> None:
    files = report_files(ll144)
    expected = _expected(json.loads(files["report.json"]))
    assert {r["table"] for r in expected} == {"groups", "impact_ratio"}
    assert any(r["metric"] == "roc_auc" for r in expected)
    assert any(r["fails"] for r in expected) and any(r["p_value"] for r in expected)
    from_csv = _parsed_groups(_from_csv(files["groups.csv"]))
    table = pq.read_table(io.BytesIO(files["groups.parquet"]))
    assert table.column_names == list(GROUP_COLUMNS)
    assert [str(f.type) for f in table.schema] == [
        {"float64": "double"}.get(t, t) for t in GROUP_COLUMNS.values()
    ]
    from_parquet = _parsed_groups(table.to_pylist())
    # exact: floats are written in their shortest round-trip form
    assert from_csv == expected
    assert from_parquet == expected


def test_tables_are_deterministic(ll144: AuditResult) -> None:
    first, again = report_files(ll144), report_files(ll144)
    assert first["groups.parquet"] == again["groups.parquet"]
    assert first["groups.csv"] == again["groups.csv"]


def test_an_audit_without_groups_writes_the_header_alone(ll144: AuditResult) -> None:
    rules = [r.model_copy(update={"groups": [], "impact_ratio": None}) for r in ll144.rules]
    files = report_files(ll144.model_copy(update={"rules": rules}))
    assert files["groups.csv"] == (",".join(f'"{c}"' for c in GROUP_COLUMNS) + "\n").encode()
    table = pq.read_table(io.BytesIO(files["groups.parquet"]))
    assert table.num_rows == 0 and table.column_names == list(GROUP_COLUMNS)


def test_csv_cells_that_need_quoting_read_back(ll144: AuditResult) -> None:
    rule = ll144.rules[0]
    odd = {"race": 'a, "b"\nc', "sex": None}
    group = dataclasses.replace(rule.groups[0], group=odd)
    result = ll144.model_copy(update={"rules": [rule.model_copy(update={"groups": [group]})]})
    rows = _from_csv(report_files(result)["groups.csv"])
    assert {json.dumps(json.loads(r["group"])) for r in rows if r["table"] == "groups"} == {
        json.dumps(dict(sorted(odd.items())))
    }
    assert not any(isinstance(v, float) and math.isnan(v) for r in rows for v in r.values())


@pytest.mark.parametrize("name", ["groups.csv", "groups.parquet"])
def test_verify_fails_when_a_table_is_edited(
    name: str,
    make_audit: Callable[..., Path],
    tmp_path: Path,
    frozen_clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.cli.test_audit_cli import FAILING

    monkeypatch.chdir(tmp_path)
    pair = generate_keypair(tmp_path / "keys")
    out = tmp_path / "out"
    run_and_report(
        make_audit(FAILING), out=out, key=load_signing_key(pair.private_path), clock=frozen_clock
    )
    public = load_public_key(pair.public_path)
    assert verify_attestation(out, public).ok
    data = bytearray((out / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (out / name).write_bytes(bytes(data))
    verified = verify_attestation(out, public)
    assert not verified.ok
    assert [r.split(":")[0] for r in verified.reasons] == [name]
    (out / name).unlink()
    assert verify_attestation(out, public).reasons == [f"{name}: file not found"]


def test_empty_tables_are_written_without_arrow_as_arrow_writes_them() -> None:
    """The header-only files come without importing pyarrow, yet equal what Arrow writes."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from ethicsgate.report.formats.groups import render_groups_csv, render_groups_parquet
    from ethicsgate.report.views.groups import GROUP_COLUMNS

    schema = pa.schema([(name, pa.type_for_alias(t)) for name, t in GROUP_COLUMNS.items()])
    empty = schema.empty_table()
    sink = io.BytesIO()
    pa_csv.write_csv(empty, sink)
    assert render_groups_csv([]) == sink.getvalue()
    shipped = pq.read_table(io.BytesIO(render_groups_parquet([])))
    assert shipped.schema.equals(schema) and shipped.num_rows == 0


def test_a_windowed_rules_groups_are_in_the_tables_window_by_window(tmp_path: Path) -> None:
    """Found by the Python API QA: groups.parquet held only the whole evidence's figures, so a
    rule failing in one month (ratio 0.7) showed a passing ratio (0.9) alone."""
    from tests.unit.rules.windows_data import POLICY, write_audit, year_of_decisions

    result = run_audit(write_audit(tmp_path, year_of_decisions(per_day=40, seed=2), policy=POLICY))
    files = report_files(result)
    expected = _expected(json.loads(files["report.json"]))
    table = pq.read_table(io.BytesIO(files["groups.parquet"]))
    assert _parsed_groups(table.to_pylist()) == expected
    assert _parsed_groups(_from_csv(files["groups.csv"])) == expected
    rule = result.rules[0]
    windows = [w.label for w in rule.windows]
    assert len(windows) == 12
    rows = [r for r in expected if r["window"] is not None]
    assert sorted({r["window"] for r in rows}) == sorted(windows)
    september = [r for r in rows if r["window"] == "2026-09" and r["fails"]]
    assert september and all(r["ratio"] < 0.8 for r in september)
    # a window's failing group fails in that window only, as in report.json
    assert not any(r["fails"] for r in rows if r["window"] == "2026-03")


def test_a_windowed_ll144_rules_tables_are_in_the_tables_window_by_window(tmp_path: Path) -> None:
    from tests.unit.rules.windows_data import POLICY, write_audit, year_of_decisions

    ll144 = POLICY.replace(
        "    metrics: [selection_rate]\n    assertions:\n"
        '      - {metric: selection_rate, aggregate: ratio, op: ">=", value: 0.8}\n',
        "    impact_ratio: selection\n    metrics: [selection_rate]\n    assertions:\n"
        '      - {metric: impact_ratio, op: ">=", value: 0.8}\n',
    )
    assert ll144 != POLICY
    result = run_audit(write_audit(tmp_path, year_of_decisions(per_day=40, seed=2), policy=ll144))
    files = report_files(result)
    expected = _expected(json.loads(files["report.json"]))
    table = pq.read_table(io.BytesIO(files["groups.parquet"]))
    assert _parsed_groups(table.to_pylist()) == expected
    windowed = [r for r in expected if r["table"] == "impact_ratio" and r["window"]]
    assert len({r["window"] for r in windowed}) == 12
    assert any(r["fails"] for r in windowed if r["window"] == "2026-09")
