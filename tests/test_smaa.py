"""SMAA (indicators.smaa) on cases whose answers are known by hand or analytically. Tolerances are
about 4-5 standard errors of the Monte Carlo estimate, stated next to each check."""
import math

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from indicators import smaa as S

N = 10_000


def test_a_dominating_park_ranks_first_in_every_draw():
    rng = np.random.default_rng(3)
    v = pd.DataFrame(rng.uniform(0, 0.9, (5, 4)), index=[f"p{i}" for i in range(5)], columns=list("abcd"))
    v.loc["best"] = 1.0  # best on every criterion
    res = S.smaa(v, n=2000, seed=1)
    assert res.rank_acceptability.loc["best", 1] == 1.0
    assert res.rank_acceptability.loc["best"].drop(1).eq(0).all()
    assert res.rank_acceptability[1].drop("best").eq(0).all()
    np.testing.assert_allclose(res.rank_acceptability.sum(axis=1), 1.0)  # every park has one rank per draw
    # first in every draw: its central weights are the mean of all the drawn weights
    np.testing.assert_allclose(res.central_weights.loc["best"], res.mean_weight, rtol=1e-12)
    assert res.confidence["best"] == 1.0
    assert res.central_weights.drop("best").isna().all().all()  # never first
    assert res.confidence.drop("best").isna().all()


def test_two_mirrored_parks_share_rank_one_half_and_half():
    # A = (0.8, 0.2), B = (0.2, 0.8): A first iff w1 > 1/2, probability 1/2 on the simplex.
    # s.e. of a share at 10,000 draws = sqrt(0.25 / 10,000) = 0.005 -> 0.02 is 4 s.e.
    v = pd.DataFrame([[0.8, 0.2], [0.2, 0.8]], index=["A", "B"], columns=["c1", "c2"])
    res = S.smaa(v, n=N, seed=7)
    assert res.rank_acceptability.loc["A", 1] == pytest.approx(0.5, abs=0.02)
    assert res.rank_acceptability.loc["B", 1] == pytest.approx(0.5, abs=0.02)
    assert res.rank_acceptability.loc["A", 1] + res.rank_acceptability.loc["B", 1] == pytest.approx(1.0)


def test_central_weights_of_a_park_best_on_one_criterion_only():
    # Two criteria, A = (1, 0), B = (0, 1): A first iff w1 > 1/2 with w1 ~ U(0, 1), so A's central
    # weights are E[w1 | w1 > 1/2] = 3/4 and 1/4; s.e. sqrt((1/48) / 5,000) = 0.002 -> 0.01.
    v = pd.DataFrame([[1.0, 0.0], [0.0, 1.0]], index=["A", "B"], columns=["c1", "c2"])
    res = S.smaa(v, n=N, seed=5)
    np.testing.assert_allclose(res.central_weights.loc["A"], [0.75, 0.25], atol=0.01)
    np.testing.assert_allclose(res.central_weights.loc["B"], [0.25, 0.75], atol=0.01)
    # A with its own central weights: 0.75 > 0.25, first on the fixed values
    assert res.confidence["A"] == 1.0 and res.confidence["B"] == 1.0


def test_central_weights_lean_to_the_criterion_a_park_is_best_on():
    v = pd.DataFrame({"c1": [0.9, 0.5, 0.4], "c2": [0.3, 0.8, 0.6], "c3": [0.3, 0.6, 0.8]}, index=["A", "B", "C"])
    res = S.smaa(v, n=N, seed=2)
    cw = res.central_weights.loc["A"]
    assert res.first_count["A"] > 500
    assert cw.idxmax() == "c1" and cw["c1"] > 0.5  # centre is 1/3; A needs a heavy c1 to win
    assert cw["c1"] > res.central_weights.loc[["B", "C"], "c1"].max()


def test_same_seed_same_figures_other_seed_other_figures():
    rng = np.random.default_rng(0)
    v = rng.uniform(0.2, 0.8, (8, 3))
    a = S.smaa(v, v - 0.1, v + 0.1, n=3000, seed=42)
    b = S.smaa(v, v - 0.1, v + 0.1, n=3000, seed=42)
    c = S.smaa(v, v - 0.1, v + 0.1, n=3000, seed=43)
    pd.testing.assert_frame_equal(a.rank_acceptability, b.rank_acceptability)
    pd.testing.assert_frame_equal(a.central_weights, b.central_weights)
    pd.testing.assert_series_equal(a.confidence, b.confidence)
    pd.testing.assert_series_equal(a.mean_weight, b.mean_weight)
    assert a.seed == 42 and a.n == 3000 and a.mode == "simplex" and a.concentration is None and a.value_ranges
    assert not a.rank_acceptability.equals(c.rank_acceptability)
    assert not np.array_equal(a.mean_weight, c.mean_weight)


def test_figures_do_not_depend_on_the_chunk_size():
    rng = np.random.default_rng(1)
    v = rng.uniform(0.2, 0.8, (6, 3))
    a = S.smaa(v, v - 0.2, v + 0.2, n=1000, seed=9)
    b = S.smaa(v, v - 0.2, v + 0.2, n=1000, seed=9, chunk=7)
    pd.testing.assert_frame_equal(a.rank_acceptability, b.rank_acceptability)
    pd.testing.assert_frame_equal(a.central_weights, b.central_weights, rtol=1e-12)
    pd.testing.assert_series_equal(a.confidence, b.confidence)


def test_simplex_weights_are_on_the_simplex_and_dirichlet_one():
    w = S.simplex_weights(np.random.default_rng(11), N, 3)
    assert w.shape == (N, 3) and (w >= 0).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(w.mean(axis=0), 1 / 3, atol=0.01)  # the centre
    # Dirichlet(1, 1, 1): each marginal is Beta(1, 2), mean 1/3, variance 1/18, 4th central
    # moment 1/135. s.e. of the mean sqrt(1/18/N) = 0.0024 -> 0.012 (5 s.e.); of the variance
    # sqrt((1/135 - 1/324)/N) = 0.00066 -> 0.0033 (5 s.e.).
    x = w[:, 0]
    assert x.mean() == pytest.approx(1 / 3, abs=0.012)
    assert x.var() == pytest.approx(1 / 18, abs=0.0033)
    # and its distribution: Kolmogorov-Smirnov against F(x) = 1 - (1 - x)^2; 1.95 / sqrt(N) is the
    # 0.1% critical value
    xs = np.sort(x)
    f = 1 - (1 - xs) ** 2
    i = np.arange(1, N + 1)
    ks = max((i / N - f).max(), (f - (i - 1) / N).max())
    assert ks < 1.95 / math.sqrt(N)


def test_simplex_mode_mean_weight_is_the_centre():
    v = np.random.default_rng(4).uniform(0, 1, (10, 5))
    res = S.smaa(v, n=N, seed=3)
    np.testing.assert_allclose(res.mean_weight, 0.2, atol=0.01)


def test_around_mode_centres_on_the_user_weights_with_the_stated_spread():
    v = pd.DataFrame(np.random.default_rng(4).uniform(0, 1, (6, 3)), columns=["a", "b", "c"])
    user = {"a": 2.0, "b": 1.0, "c": 1.0}  # normalised: 0.5, 0.25, 0.25
    res = S.smaa(v, mode="around", weights=user, concentration=50, n=N, seed=3)
    np.testing.assert_allclose(res.mean_weight, [0.5, 0.25, 0.25], atol=0.01)
    assert res.mode == "around" and res.concentration == 50.0
    # Dirichlet(50 w): Var(w_i) = w_i (1 - w_i) / 51: 0.25/51 = 0.0049 and 0.1875/51 = 0.0037;
    # s.e. of a sample variance here < 0.0001 -> 0.0006
    w = S.around_weights(np.random.default_rng(8), N, np.array([0.5, 0.25, 0.25]), 50.0)
    np.testing.assert_allclose(w.var(axis=0), [0.25 / 51, 0.1875 / 51, 0.1875 / 51], atol=0.0006)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)
    # a Series is read by label, not by position
    by_label = S.smaa(v, mode="around", weights=pd.Series({"c": 1.0, "b": 1.0, "a": 2.0}), n=N, seed=3)
    pd.testing.assert_series_equal(by_label.mean_weight, res.mean_weight)
    # a zero user weight stays zero in every draw
    res0 = S.smaa(v, mode="around", weights=[1.0, 1.0, 0.0], n=500, seed=3)
    assert res0.mean_weight.iloc[2] == 0.0


def test_a_value_range_straddling_another_park_gives_the_probability():
    # One criterion; A uniform on [0, 1], B fixed at 0.25: A first with probability 0.75, B 0.25.
    # s.e. sqrt(0.75 * 0.25 / N) = 0.0043 -> 0.02. With one criterion the weight is always 1, so the
    # confidence factors are the same probabilities.
    v = pd.DataFrame({"c": [0.5, 0.25]}, index=["A", "B"])
    low = np.array([[0.0], [0.25]])
    high = np.array([[1.0], [0.25]])
    res = S.smaa(v, low, high, n=N, seed=21)
    assert res.rank_acceptability.loc["A", 1] == pytest.approx(0.75, abs=0.02)
    assert res.rank_acceptability.loc["B", 1] == pytest.approx(0.25, abs=0.02)
    assert res.confidence["A"] == pytest.approx(0.75, abs=0.02)
    assert res.confidence["B"] == pytest.approx(0.25, abs=0.02)
    # without the range A (0.5) always beats B (0.25)
    fixed = S.smaa(v, n=1000, seed=21)
    assert fixed.rank_acceptability.loc["A", 1] == 1.0


def test_tied_parks_share_the_best_rank():
    # Two identical parks and a dominated one: ranks 1, 1, 3 in every draw.
    v = pd.DataFrame([[0.6, 0.4], [0.6, 0.4], [0.1, 0.1]], index=["A", "A2", "C"], columns=["x", "y"])
    res = S.smaa(v, n=1000, seed=1)
    assert res.rank_acceptability.loc["A", 1] == 1.0 and res.rank_acceptability.loc["A2", 1] == 1.0
    assert res.rank_acceptability[2].eq(0).all()
    assert res.rank_acceptability.loc["C", 3] == 1.0
    np.testing.assert_array_equal(S.ranks(np.array([[0.3, 0.7, 0.3, 0.1], [0.5, 0.5, 0.5, 0.5]])),
                                  [[2, 1, 2, 4], [1, 1, 1, 1]])
    # equal to 9 decimals is a tie, a difference at the 8th is not
    near = S.smaa(pd.DataFrame({"c": [0.3, 0.3 + 1e-12, 0.3 + 1e-8]}), n=100, seed=1)
    np.testing.assert_array_equal(near.rank_acceptability[1], [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(near.rank_acceptability[2], [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(S.ranks(np.array([[0.3 + 1e-11, 0.3, 0.3 + 1e-8]])), [[2, 2, 1]])


def test_the_export_table_has_one_column_per_rank_and_criterion():
    v = pd.DataFrame([[0.8, 0.2], [0.2, 0.8], [0.1, 0.1]], index=["A", "B", "C"], columns=["c1", "c2"])
    t = S.smaa(v, n=500, seed=1).table()
    assert list(t.columns) == ["acceptability_rank1", "acceptability_rank2", "acceptability_rank3",
                               "central_w_c1", "central_w_c2", "confidence"]
    assert t.loc["C", "acceptability_rank3"] == 1.0 and math.isnan(t.loc["C", "central_w_c1"])


@pytest.mark.parametrize("kwargs, en", [
    ({"values": [[0.5, np.nan]]}, "missing or non-finite"),
    ({"values": [[0.5, 1.2]]}, "[0, 1]"),
    ({"values": [[0.5, 0.5]], "low": [[0.6, 0.5]]}, "within its lower and upper bound"),
    ({"values": [[0.5, 0.5]], "high": [[0.5]]}, "shape of the values"),
    ({"values": [[0.5, 0.5]], "mode": "around"}, "needs the user's weights"),
    ({"values": [[0.5, 0.5]], "mode": "around", "weights": [2.0, -1.0]}, "non-negative"),
    ({"values": [[0.5, 0.5]], "mode": "around", "weights": [1.0, 1.0], "concentration": 0}, "concentration"),
    ({"values": [[0.5, 0.5]], "mode": "uniform"}, "weights mode"),
    ({"values": [[0.5, 0.5]], "n": 0}, "number of draws"),
])
def test_unusable_input_is_refused_in_both_languages(kwargs, en):
    values = kwargs.pop("values")
    with pytest.raises(InputError) as e:
        S.smaa(values, **kwargs)
    assert en in e.value.message("en")
    assert e.value.message("zh") != e.value.message("en")
