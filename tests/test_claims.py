"""coursekit.claims: seeds shifted by one variable, spreads, checks that fail loudly and leave a record."""

from __future__ import annotations

import json
import statistics

import numpy as np
import pytest

from coursekit import claims


@pytest.fixture
def records(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CLAIMS_DIR", str(tmp_path))
    monkeypatch.delenv("COURSE_SEED_OFFSET", raising=False)
    claims.page("ch99")
    return tmp_path / "ch99.json"


def test_seeds_are_shifted_by_the_offset(monkeypatch):
    monkeypatch.delenv("COURSE_SEED_OFFSET", raising=False)
    assert claims.seeds(3) == [0, 1, 2] and claims.seed(4) == 4
    monkeypatch.setenv("COURSE_SEED_OFFSET", "101")
    assert claims.seeds(3) == [101, 102, 103] and claims.seeds(2, start=5) == [106, 107]
    monkeypatch.setenv("COURSE_SEED_OFFSET", "seven")
    with pytest.raises(ValueError, match="COURSE_SEED_OFFSET must be an integer"):
        claims.seeds(3)


def test_over_seeds_gives_the_sample_spread(monkeypatch):
    monkeypatch.setenv("COURSE_SEED_OFFSET", "10")
    seen = []
    spread = claims.over_seeds(lambda s: seen.append(s) or s ** 2, 4)
    assert seen == [10, 11, 12, 13] and spread.seeds == (10, 11, 12, 13)
    values = [100, 121, 144, 169]
    assert spread.mean == pytest.approx(np.mean(values))
    assert spread.std == pytest.approx(np.std(values, ddof=1))          # the sample std, not the population's
    assert (spread.min, spread.max) == (100, 169)
    both = claims.over_seeds(lambda s: {"a": s, "b": -s}, [1, 2, 3])
    assert both["a"].values == (1, 2, 3) and both["b"].mean == -2
    diff = claims.paired_difference(both["a"], both["b"])
    assert diff.values == (2, 4, 6)
    lo, hi = claims.t_interval(diff)
    half = 4.303 * statistics.stdev([2, 4, 6]) / 3 ** 0.5                 # t(0.975, 2 dof) = 4.303
    assert (lo, hi) == pytest.approx((4 - half, 4 + half), rel=1e-3)


def test_a_failed_claim_names_page_sentence_and_values(records):
    spread = claims.over_seeds(lambda s: 0.5 + s, 3)
    claims.check("holds on every seed", spread.min > 0.4, values=spread, margin=0.1)
    with pytest.raises(claims.ClaimFailed) as err:
        claims.check("below one on every seed", spread.max < 1, values=spread, margin=0.1)
    message = str(err.value)
    assert "ch99" in message and "below one on every seed" in message and "2.5" in message
    doc = json.loads(records.read_text())
    assert [c["sentence"] for c in doc["claims"]] == ["holds on every seed", "below one on every seed"]
    assert [c["holds"] for c in doc["claims"]] == [True, False]
    assert doc["claims"][0]["kind"] == "over seeds" and doc["claims"][0]["values"]["seeds"] == [0, 1, 2]
    assert doc["environment"]["seed_offset"] == 0 and "cpu_capability" in doc["environment"]


def test_exact_claims_are_recorded_as_deterministic(records):
    claims.check("2/L is the stability limit", True, values=2.0, margin=1e-9)
    claims.check("two seeds are not a distribution", True, values=claims.over_seeds(lambda s: s, 2))
    kinds = [c["kind"] for c in json.loads(records.read_text())["claims"]]
    assert kinds == ["deterministic", "deterministic"]


def test_a_new_page_starts_a_fresh_record(records):
    claims.check("first", True, values=1)
    claims.page("ch99")
    assert json.loads(records.read_text())["claims"] == []


def test_a_claim_before_naming_the_page_is_an_error(monkeypatch):
    monkeypatch.setattr(claims, "_page", None)
    with pytest.raises(RuntimeError, match="claims.page"):
        claims.check("orphan", True)


def test_glue_formats_once_and_works_without_a_book():
    assert claims.glue("ch99_x", 0.12345, "{:.2f}") == "0.12"
