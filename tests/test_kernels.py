"""The compiled run counters of the tiled engine (zonal/kernels.py), on hand-made arrays."""
import numpy as np
import pytest

from zonal import kernels


def _runs(*triples):
    return tuple(np.asarray(v, np.int64) for v in zip(*triples))


def test_counts_under_runs_by_hand_including_overlap_and_run_lengths_not_multiple_of_four():
    codes = np.array([[1, 1, 1, 2, 2, 3, 7],
                      [4, 4, 4, 4, 4, 4, 4],
                      [9, 8, 7, 6, 5, 4, 3]], np.uint8)
    a = _runs((0, 0, 5), (1, 2, 7))  # row 0 cols 0..4: 1,1,1,2,2 ; row 1 cols 2..6: five 4s
    b = _runs((0, 3, 7), (2, 0, 1))  # overlaps a on row 0 cols 3..4: 2,2,3,7 ; row 2 col 0: 9
    c = _runs((2, 6, 6))  # an empty run
    got = kernels.run_code_counts(codes, [a, b, c])
    assert got.shape == (3, 256)
    want = np.zeros((3, 256))
    want[0, [1, 2, 4]] = [3, 2, 5]
    want[1, [2, 3, 7, 9]] = [2, 1, 1, 1]
    np.testing.assert_array_equal(got, want)


def test_areas_by_row_multiply_each_row_count_by_that_rows_pixel_area():
    codes = np.array([[5, 5, 6, 6, 6, 6, 6, 6, 6],
                      [5, 5, 5, 5, 5, 5, 5, 5, 6]], np.uint8)
    row_area = np.array([900.0, 850.5])
    unit = _runs((1, 0, 9), (0, 0, 9))  # rows given out of order: sorted inside
    got = kernels.run_code_areas_by_row(codes, row_area, [unit])
    assert got[0, 5] == pytest.approx(2 * 900.0 + 8 * 850.5, rel=1e-15)
    assert got[0, 6] == pytest.approx(7 * 900.0 + 1 * 850.5, rel=1e-15)
    assert got[0].sum() == pytest.approx(9 * 900.0 + 9 * 850.5, rel=1e-15)


def test_kernel_matches_a_plain_numpy_count_on_random_land_cover():
    rng = np.random.default_rng(3)
    codes = np.repeat(rng.integers(0, 256, (50, 40)), 7, axis=1).astype(np.uint8)  # runs of equal codes
    h, w = codes.shape
    rows = np.arange(h)
    cut = rng.integers(0, w, h)
    left, right = _runs(*[(r, 0, c) for r, c in zip(rows, cut)]), _runs(*[(r, c, w) for r, c in zip(rows, cut)])
    got = kernels.run_code_counts(codes, [left, right])
    mask = np.arange(w)[None, :] < cut[:, None]
    np.testing.assert_array_equal(got[0], np.bincount(codes[mask], minlength=256))
    np.testing.assert_array_equal(got[1], np.bincount(codes[~mask], minlength=256))


def test_areas_by_cell_add_each_cells_own_area():
    codes = np.array([[1, 1, 2],
                      [2, 2, 2]], np.uint8)
    area = np.array([[10.0, 11.0, 12.0],
                     [20.0, 21.0, 22.0]])
    unit = _runs((0, 0, 3), (1, 1, 3))
    got = kernels.run_code_areas_by_cell(codes, area, [unit])
    assert got[0, 1] == 10.0 + 11.0
    assert got[0, 2] == 12.0 + 21.0 + 22.0
    assert got[0].sum() == 76.0
