"""The shared cross-matcher: one-to-one, beam-relative, optimal."""

import numpy as np

from decoras_gui.eval.matching import beam_distance, match


def test_beam_distance_uses_the_beam_axes():
    # beam 14 x 5 px, major axis along +y (theta 90)
    d = beam_distance(np.array([0.0, 2.5, 0.0]), np.array([7.0, 0.0, 3.5]), 14.0, 5.0, 90.0)
    np.testing.assert_allclose(d, [1.0, 1.0, 0.5])


def test_one_to_one_and_optimal():
    truth = np.array([[10.0, 10.0], [14.0, 10.0]])
    dets = np.array([[13.0, 10.0], [10.5, 10.0], [40.0, 40.0]])
    m = match(truth, dets, 14.0, 14.0, 0.0)
    assert sorted(m.pairs) == [(0, 1), (1, 0)]
    assert m.unmatched_truth == [] and m.unmatched_detections == [2]


def test_outside_radius_is_unmatched_and_empty_inputs():
    m = match(np.array([[0.0, 0.0]]), np.array([[20.0, 0.0]]), 10.0, 10.0, 0.0)
    assert m.pairs == [] and m.unmatched_truth == [0] and m.unmatched_detections == [0]
    m = match(np.zeros((0, 2)), np.array([[1.0, 1.0]]), 10.0, 10.0, 0.0)
    assert m.unmatched_detections == [0]
