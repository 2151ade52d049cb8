"""Write ``applicants.csv``: a synthetic applicant log for the NYC Local Law 144 example audit.

6,000 applicants screened by a resume-matching tool: ``sex`` and ``race_ethnicity`` as the EEO-1
categories (with "Decline to state"), the tool's ``match_score`` (0-100), whether it
``advanced`` the applicant to an interview (score 70 or more) and whether the applicant was
later ``hired``. The data is a pure function of the seed; the tool is built to advance Black
and Hispanic applicants less often (so the four-fifths check fails) and to leave the small
categories in between. Run ``python examples/hiring/make_applicants.py`` to rewrite it.

It also writes two files for the Illinois HB 3773 example audit (audits/illinois-hb3773.yaml),
from a second seed so that ``applicants.csv`` keeps its bytes:

* ``applicant_features.csv``: the tool's model inputs per applicant (``years_experience``,
  ``degree``, ``commute_km``, ``zip3``: the first three digits of the home zip code, which
  tracks race/ethnicity as Chicago's neighbourhoods do), with the applicant's self-identified
  ``sex`` and ``race_ethnicity`` joined for bias testing;
* ``notices.csv``: the hiring log's AI notices (``ai_notice``) and screening decisions
  (``screening_decision``), one decision per applicant; 9 applicants were never sent the
  notice and 5 were sent it only after the decision.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np

SEED = 1442023
ROWS = 6000
SEX = {"Female": 0.48, "Male": 0.49, "Decline to state": 0.03}
#: category -> (share, score offset)
RACE = {
    "Hispanic or Latino": (0.19, -4.0),
    "White": (0.38, 2.0),
    "Black or African American": (0.20, -5.5),
    "Native Hawaiian or Pacific Islander": (0.008, -3.0),
    "Asian": (0.13, 1.0),
    "Native American or Alaska Native": (0.012, -6.0),
    "Two or More Races": (0.04, 0.0),
    "Decline to state": (0.04, 0.0),
}


OUT = Path(__file__).with_name("applicants.csv")
COLUMNS = ["applicant_id", "sex", "race_ethnicity", "match_score", "advanced", "hired"]
FEATURES_SEED = SEED + 1
#: zip3 prefixes of the Chicago area and each race/ethnicity's weights over them
ZIP3 = ["606", "604", "600", "601", "605", "608"]
ZIP3_WEIGHTS = {
    "White": [0.10, 0.05, 0.45, 0.30, 0.08, 0.02],
    "Black or African American": [0.60, 0.32, 0.02, 0.02, 0.02, 0.02],
    "Hispanic or Latino": [0.25, 0.05, 0.03, 0.05, 0.02, 0.60],
    "Asian": [0.25, 0.03, 0.20, 0.07, 0.43, 0.02],
}
DEGREES = ["none", "associate", "bachelor", "master"]
#: applicants never sent the AI notice, and those sent it only after the decision
NO_NOTICE = [17, 404, 911, 1500, 2222, 3001, 4096, 5000, 5999]
LATE_NOTICE = [88, 1234, 2718, 3141, 4242]


def main(path: Path = OUT) -> None:
    """Write the applicants file and, beside it, the Illinois example's two files."""
    rng = np.random.default_rng(SEED)
    sexes = rng.choice(list(SEX), ROWS, p=list(SEX.values()))
    shares = np.array([s for s, _ in RACE.values()])
    races = rng.choice(list(RACE), ROWS, p=shares / shares.sum())
    offset = np.array([RACE[r][1] for r in races]) + np.where(sexes == "Male", 1.0, 0.0)
    skill = rng.normal(0, 1, ROWS)
    score = np.clip(np.round(62 + 10 * skill + offset + rng.normal(0, 6, ROWS)), 0, 100)
    advanced = score >= 70
    hired = rng.random(ROWS) < 1 / (1 + np.exp(-(1.3 * skill - 1.6)))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(ROWS):
            writer.writerow(
                [
                    f"A{i + 1:05d}",
                    sexes[i],
                    races[i],
                    int(score[i]),
                    int(advanced[i]),
                    int(hired[i]),
                ]
            )
    _features(path.with_name("applicant_features.csv"), sexes, races, skill)
    _notices(path.with_name("notices.csv"))


def _features(path: Path, sexes: np.ndarray, races: np.ndarray, skill: np.ndarray) -> None:
    """Write the model inputs: zip3 follows race/ethnicity, the others do not."""
    rng = np.random.default_rng(FEATURES_SEED)
    even = [1 / len(ZIP3)] * len(ZIP3)
    zip3 = [rng.choice(ZIP3, p=ZIP3_WEIGHTS.get(str(r), even)) for r in races]
    years = np.clip(np.round(6 + 3 * skill + rng.normal(0, 2, ROWS)), 0, 40)
    degree = rng.choice(DEGREES, ROWS, p=[0.15, 0.2, 0.45, 0.2])
    commute = np.round(rng.gamma(2.0, 6.0, ROWS), 1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["applicant_id", "sex", "race_ethnicity", "years_experience", "degree",
             "commute_km", "zip3"]
        )  # fmt: skip
        for i in range(ROWS):
            writer.writerow(
                [f"A{i + 1:05d}", sexes[i], races[i], int(years[i]), degree[i],
                 f"{commute[i]:.1f}", zip3[i]]
            )  # fmt: skip


def _notices(path: Path) -> None:
    """Write the hiring log: an AI notice on applying, the screening decision 3 days later."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["event_id", "applicant_id", "ts", "event"])
        for i in range(ROWS):
            day = date(2026, 1, 5) + timedelta(days=i // 60)
            applied = f"{day.isoformat()}T{9 + i % 8:02d}:{i % 60:02d}:00-06:00"
            decided_day = day + timedelta(days=3)
            decided = f"{decided_day.isoformat()}T{9 + i % 8:02d}:{i % 60:02d}:00-06:00"
            applicant = f"A{i + 1:05d}"
            if i not in NO_NOTICE:
                noticed = decided_day + timedelta(days=1) if i in LATE_NOTICE else None
                at = f"{noticed.isoformat()}T10:00:00-06:00" if noticed else applied
                writer.writerow([f"N{i + 1:05d}", applicant, at, "ai_notice"])
            writer.writerow([f"D{i + 1:05d}", applicant, decided, "screening_decision"])


if __name__ == "__main__":
    main()
