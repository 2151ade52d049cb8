"""Write ``applicants.csv``: a synthetic applicant log for the NYC Local Law 144 example audit.

6,000 applicants screened by a resume-matching tool: ``sex`` and ``race_ethnicity`` as the EEO-1
categories (with "Decline to state"), the tool's ``match_score`` (0-100), whether it
``advanced`` the applicant to an interview (score 70 or more) and whether the applicant was
later ``hired``. The data is a pure function of the seed; the tool is built to advance Black
and Hispanic applicants less often (so the four-fifths check fails) and to leave the small
categories in between. Run ``python examples/hiring/make_applicants.py`` to rewrite it.
"""

from __future__ import annotations

import csv
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


def main(path: Path = OUT) -> None:
    """Write the applicants file."""
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


if __name__ == "__main__":
    main()
