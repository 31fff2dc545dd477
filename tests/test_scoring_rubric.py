"""How a rubric turns answers into points, and competition ranks (pure, no database)."""

from __future__ import annotations

import pytest

from chiso.scoring.rubric import AnswerRejected, competition_ranks, score

LEVELS = [{"label_vi": "Đầy đủ, đúng hạn", "label_en": "Complete and on time", "points": 80},
          {"label_vi": "Đầy đủ nhưng chậm", "label_en": "Complete but late", "points": 50},
          {"label_vi": "Không cập nhật", "label_en": "Not entered", "points": 0}]
STEPS = {"steps": [{"from": 80, "points": 100}, {"from": 60, "points": 70},
                   {"from": 40, "points": 40}]}


@pytest.mark.parametrize(("answer", "points", "shown"), [
    ("Đầy đủ, đúng hạn", 80, "Đầy đủ, đúng hạn"), ("day du nhung cham", 50, "Đầy đủ nhưng chậm"),
    ("Not entered", 0, "Không cập nhật"), ("2", 50, "Đầy đủ nhưng chậm")])
def test_a_level_answer_scores_that_levels_points(answer: str, points: float, shown: str
                                                  ) -> None:
    result = score("7.1", "level", 80, LEVELS, answer)
    assert (result.points, result.answer) == (points, shown)


@pytest.mark.parametrize(("answer", "points"), [
    ("85%", 100), ("80", 100), ("79,9%", 70), ("60", 70), ("45,5", 40), ("39,9%", 0)])
def test_a_ratio_scores_by_the_step_it_reaches(answer: str, points: float) -> None:
    assert score("6.1", "ratio", 100, STEPS, answer).points == points


def test_a_ratio_without_steps_scores_in_proportion_to_full_at() -> None:
    assert score("3.1", "ratio", 80, {"full_at": 100}, "76,5%").points == 61.2
    assert score("3.1", "ratio", 80, {"full_at": 90}, "95%").points == 80
    assert score("3.1", "ratio", 80, {"full_at": 100}, "76,5%").answer == "76,5%"


def test_yes_no_and_refusals_name_the_criterion() -> None:
    assert score("1.1", "yes_no", 40, None, "Có").points == 40
    assert score("1.1", "yes_no", 40, None, "không").points == 0
    for method, rule, answer in (("yes_no", None, "có lẽ"), ("ratio", {}, "120%"),
                                 ("ratio", {}, "nhiều"), ("level", LEVELS, "Gần đủ")):
        with pytest.raises(AnswerRejected) as refused:
            score("9.9", method, 40, rule, answer)
        assert refused.value.status == 422 and "Tiêu chí 9.9" in refused.value.message_vi


def test_competition_ranks_share_a_rank_and_skip() -> None:
    assert competition_ranks([900.0, 875.504, 875.5, 700.0, None]) == [1, 2, 2, 4, None]
    assert competition_ranks([None, None]) == [None, None]
