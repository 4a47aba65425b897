"""The priority list recovers the true problems: simulation on studies from the sample generator.

The generator (csatlib.sample.synth, see ground_truth.json) plants two events in the last wave:
France's delivery falls 1.8 points (logistics provider change) and every Brazilian attribute
improves by 0.5. Over several seeds (fresh data each time, with the sample's clustering of
respondents within accounts) the priority model must put France's delivery first among its
priorities, never call it a strength, and never make any Brazilian attribute a priority.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from csatlib.ingest.clean import build_processed
from csatlib.report import overview
from csatlib.sample.synth import generate

pytestmark = pytest.mark.slow

SEEDS = [11, 12, 13]


@pytest.fixture(scope="module", params=SEEDS)
def study(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    root: Path = tmp_path_factory.mktemp(f"seed-{request.param}")
    generate(root / "raw", seed=request.param)
    build_processed(root / "raw", root / "processed")
    return overview.load_study(processed_dir=root / "processed")


def test_the_planted_problem_is_the_first_priority(study) -> None:
    problems = study.problems.set_index("country")
    assert problems.loc["FR", "problems"][:1] == ("delivery",)
    assert "delivery" not in problems.loc["FR", "best_practices"]


def test_a_country_that_improved_everywhere_has_no_priority(study) -> None:
    problems = study.problems.set_index("country")
    assert problems.loc["BR", "problems"] == ()
    assert len(problems.loc["BR", "best_practices"]) >= 1
