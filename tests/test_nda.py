"""Negative data augmentation transforms: each changes every image in the way its name says."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gdiv.data import load_digits, nda

SHAPE = (8, 8)
X = jnp.asarray(load_digits().test.x[:64])
KEY = jax.random.key(0)


def tiles(images):
  return [images[:, r:r + 4, c:c + 4] for r in (0, 4) for c in (0, 4)]


def test_jigsaw_reorders_the_four_tiles_never_in_the_identity_order():
  out = np.asarray(jax.jit(nda.jigsaw, static_argnums=2)(KEY, X, SHAPE)).reshape(-1, *SHAPE)
  before, after = tiles(np.asarray(X).reshape(-1, *SHAPE)), tiles(out)
  checked = 0
  for i in range(len(X)):
    originals = [t[i] for t in before]
    if len({t.tobytes() for t in originals}) < 4:
      continue  # two equal tiles (e.g. blank corners): the order is ambiguous
    order = [next(j for j in range(4) if np.array_equal(t[i], originals[j])) for t in after]
    assert sorted(order) == [0, 1, 2, 3] and order != [0, 1, 2, 3]
    checked += 1
  assert checked > len(X) // 2


def test_stitch_joins_the_left_half_of_an_image_to_the_right_half_of_another():
  out = np.asarray(nda.stitch(KEY, X, SHAPE)).reshape(-1, *SHAPE)
  images = np.asarray(X).reshape(-1, *SHAPE)
  np.testing.assert_array_equal(out[:, :, :4], images[:, :, :4])
  for i in range(len(X)):
    sources = [j for j in range(len(X)) if np.array_equal(out[i, :, 4:], images[j, :, 4:])]
    assert sources and any(j != i for j in sources)


def test_cutout_sets_one_half_size_square_to_its_own_mean():
  out = np.asarray(nda.cutout(KEY, X, SHAPE)).reshape(-1, *SHAPE)
  images = np.asarray(X).reshape(-1, *SHAPE)
  for i in range(len(X)):
    changed = np.argwhere(~np.isclose(out[i], images[i]))
    if changed.size:  # a square whose pixels all equal their mean changes nothing
      (top, left), (bottom, right) = changed.min(0), changed.max(0)
      assert bottom - top < 4 and right - left < 4
    found = [(t, l) for t in range(5) for l in range(5)
             if np.allclose(out[i, t:t + 4, l:l + 4], images[i, t:t + 4, l:l + 4].mean())]
    assert found


def test_mixup_is_a_convex_combination_with_weights_near_one_half():
  out = np.asarray(nda.mixup(KEY, X, SHAPE))
  images = np.asarray(X)
  lams = []
  for i in range(len(X)):
    residuals = []
    for j in range(len(X)):
      if j == i or np.allclose(images[i], images[j]):
        continue
      d = images[i] - images[j]
      lam = float(d @ (out[i] - images[j]) / (d @ d))
      residuals.append((np.abs(out[i] - (lam * images[i] + (1 - lam) * images[j])).max(), lam))
    error, lam = min(residuals)
    assert error < 1e-5
    lams.append(lam)
  lams = np.asarray(lams)  # Beta(25, 25): mean ½, sd 0.070
  assert np.all((0 < lams) & (lams < 1)) and abs(lams.mean() - 0.5) < 0.03 and 0.04 < lams.std() < 0.11


def test_shift_is_a_non_zero_cyclic_roll():
  out = np.asarray(nda.shift(KEY, X, SHAPE)).reshape(-1, *SHAPE)
  images = np.asarray(X).reshape(-1, *SHAPE)
  for i in range(len(X)):
    rolls = [(a, b) for a in range(8) for b in range(8) if np.array_equal(out[i], np.roll(images[i], (a, b), (0, 1)))]
    assert any(a and b for a, b in rolls)


def test_unknown_transform_lists_the_known_ones():
  with pytest.raises(ValueError, match="known: jigsaw, stitch, cutout, mixup, shift"):
    nda.get("rotate")


@pytest.mark.parametrize("name", list(nda.TRANSFORMS))
def test_on_colour_images_each_channel_is_transformed_as_a_grey_image_would_be(name):
  channels = [X, X[::-1], jnp.roll(X, 5, axis=0)]  # three different images per colour image
  colour = jnp.stack([c.reshape(-1, *SHAPE) for c in channels], axis=-1).reshape(len(X), -1)
  out = np.asarray(nda.get(name)(KEY, colour, (*SHAPE, 3))).reshape(len(X), *SHAPE, 3)
  for c, grey in enumerate(channels):
    expected = np.asarray(nda.get(name)(KEY, grey, SHAPE)).reshape(len(X), *SHAPE)
    np.testing.assert_allclose(out[..., c], expected, atol=1e-6)
