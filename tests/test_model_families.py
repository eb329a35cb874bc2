"""Model families checked against independent computations, and trained where theory says."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.stats

from gdiv import divergences, models, training
from gdiv.data import GaussianMixture
from gdiv.models import MLPCritic
from gdiv.models.critics import normalised


def _init_perturbed(model, scale=0.3, seed=0):
  """Parameters moved away from the identity initialisation, so the checks have teeth (one compiled
  program, not one per operation)."""
  @jax.jit
  def perturbed(key):
    params = model.init(key, jax.random.fold_in(key, 1), 2, method=model.sample)
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.fold_in(key, 2), len(leaves))
    return jax.tree.unflatten(tree, [x + scale * jax.random.normal(k, x.shape) for x, k in zip(leaves, keys)])
  return perturbed(jax.random.key(seed))


def test_registry_lists_the_families_and_rejects_unknown_names():
  assert {"gaussian", "mixture", "flow", "made", "mlp_generator"} <= set(models.names())
  with pytest.raises(ValueError, match=r"Unknown model family 'flw' \(did you mean 'flow'\?\); known families:"):
    models.get("flw")


@pytest.mark.parametrize("image_shape", [None, (2, 2)])
def test_flow_log_prob_matches_change_of_variables_with_autodiff_jacobian(image_shape, float64):
  flow = models.get("flow")(dim=4, num_layers=4, hidden=(16,), image_shape=image_shape)
  params = _init_perturbed(flow)
  x = jax.random.normal(jax.random.key(5), (6, 4))
  inverse = lambda v: flow.apply(params, v[None], method=flow.inverse)[0][0]
  z, jacobians = jax.jit(jax.vmap(lambda v: (inverse(v), jax.jacfwd(inverse)(v))))(x)  # per point
  expected = [np.sum(scipy.stats.norm.logpdf(np.asarray(z_i))) + np.linalg.slogdet(np.asarray(j))[1]
              for z_i, j in zip(z, jacobians)]
  np.testing.assert_allclose(jax.jit(lambda x: flow.apply(params, x, method=flow.log_prob))(x), expected, rtol=1e-9)


def test_flow_sample_then_inverse_round_trips():
  flow = models.get("flow")(dim=3, num_layers=6, hidden=(32,))
  params = _init_perturbed(flow, scale=0.1)  # larger weights make the inverse ill-conditioned in float32
  z = jax.random.normal(jax.random.key(3), (100, 3))
  x, log_det = jax.jit(lambda z: flow.apply(params, z, method=flow.forward))(z)
  z_back, inverse_log_det = jax.jit(lambda x: flow.apply(params, x, method=flow.inverse))(x)
  np.testing.assert_allclose(z_back, z, atol=1e-4)
  np.testing.assert_allclose(inverse_log_det, -log_det, atol=1e-4)
  base = jnp.sum(jax.scipy.stats.norm.logpdf(z), axis=1)  # log q(x) = log N(z) - log|det ∂x/∂z|
  np.testing.assert_allclose(jax.jit(lambda x: flow.apply(params, x, method=flow.log_prob))(x), base - log_det,
                             atol=1e-4)


def test_flow_rejects_one_dimensional_data():
  flow = models.get("flow")(dim=1)
  with pytest.raises(ValueError, match="RealNVP needs dim ≥ 2"):
    flow.init(jax.random.key(0), jax.random.key(1), 2, method=flow.sample)


def test_made_is_autoregressive():
  made = models.get("made")(dim=5, hidden=(32, 32))
  params = _init_perturbed(made)
  x = jax.random.normal(jax.random.key(1), (5,))
  for output in (0, 1):  # μ and log σ
    jac = jax.jacfwd(lambda v: made.apply(params, v[None], method=made.autoregressive_params)[output][0])(x)
    assert np.all(np.asarray(jac)[np.triu_indices(5)] == 0.0), "∂out_i/∂x_j must vanish for j ≥ i"
    assert np.any(np.asarray(jac)[np.tril_indices(5, -1)] != 0.0)


def test_made_log_prob_matches_the_density_of_its_sampler(float64):
  """log q(x) = log N(ε) - log|det ∂x/∂ε|, with the Jacobian of the sequential sampler by autodiff."""
  made = models.get("made")(dim=3, hidden=(16,), num_blocks=2)
  params = _init_perturbed(made)
  sampler = lambda eps: made.apply(params, jax.random.key(0), 1, method=lambda m, k, n: _sample_from(m, eps))
  eps = jax.random.normal(jax.random.key(4), (4, 3))
  x, jacobians = jax.jit(jax.vmap(lambda e: (sampler(e), jax.jacfwd(sampler)(e))))(eps)  # per ε
  expected = [np.sum(scipy.stats.norm.logpdf(np.asarray(e))) - np.linalg.slogdet(np.asarray(j))[1]
              for e, j in zip(eps, jacobians)]
  np.testing.assert_allclose(jax.jit(lambda x: made.apply(params, x, method=made.log_prob))(x), expected, rtol=1e-9)


def _sample_from(made_module, eps):
  """MADE.sample with given noise ε instead of a key (same code path)."""
  x = eps[None]
  for b in range(made_module.num_blocks):
    noise, x = x, jnp.zeros_like(x)
    for _ in range(made_module.dim):
      mean, log_scale = made_module._block(b, x)
      x = mean + jnp.exp(log_scale) * noise
  return x[0]


def test_mixture_log_prob_matches_scipy():
  mixture = models.get("mixture")(dim=2, num_components=3)
  params = _init_perturbed(mixture)
  p = params["params"]
  x = np.random.default_rng(0).normal(size=(20, 2))
  weights = np.asarray(jax.nn.softmax(p["logits"]))
  expected = np.log(sum(w * scipy.stats.multivariate_normal(m, np.diag(np.exp(2 * s))).pdf(x)
                        for w, m, s in zip(weights, np.asarray(p["means"]), np.asarray(p["log_scales"]))))
  np.testing.assert_allclose(mixture.apply(params, x, method=mixture.log_prob), expected, rtol=1e-5)


TARGET = GaussianMixture.create([0.3, 0.3, 0.4], [[-1.0, 0.0], [1.0, 0.5], [0.0, -1.0]],
                                [[0.3, 0.5], [0.4, 0.3], [0.5, 0.4]])


@pytest.mark.slow
@pytest.mark.parametrize("name, kwargs", [("flow", dict(num_layers=8)), ("made", dict(num_blocks=5))])
def test_mle_brings_flow_and_made_within_a_tenth_of_a_nat_of_the_true_entropy(name, kwargs):
  model = models.get(name)(dim=2, **kwargs)
  trainer = training.make_trainer(model, "mle", model_optimizer=optax.adam(optax.cosine_decay_schedule(2e-3, 4000)))
  state = trainer.init(jax.random.key(0), jnp.zeros((1, 2)))
  x_test = TARGET.sample(jax.random.key(7), 20_000)
  nll = lambda s: -float(jnp.mean(model.apply(s.model_params, x_test, method=model.log_prob)))
  initial = nll(state)
  state, _ = jax.jit(training.make_train_loop(trainer.step, lambda k: TARGET.sample(k, 512), 4000))(state)
  with jax.enable_x64(True):  # H(P) = -E_P log p(x), Monte Carlo with 400k samples
    entropy = -float(jnp.mean(TARGET.log_prob(jnp.asarray(TARGET.sample(jax.random.key(99), 400_000), jnp.float64))))
  assert abs(nll(state) - entropy) < 0.1, (nll(state), entropy)
  assert initial > entropy + 0.5


GAUSSIAN_TARGET = GaussianMixture.create([1.0], [[1.0, -1.0]], [[0.5, 1.5]])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["wasserstein_gp", "hinge", "least_squares", "relativistic", "mmd", "hybrid"])
def test_objectives_beyond_f_fit_a_gaussian_when_the_target_is_one(name):
  """Each objective is minimised at Q = P; with P in the model family training must get there."""
  divergence = divergences.get(name)
  critic = MLPCritic((64, 64), "relu") if divergence.needs_critic else None
  trainer = training.make_trainer(
      models.get("gaussian")(dim=2), divergence, model_optimizer=optax.adam(3e-3), critic=critic,
      critic_optimizer=optax.adam(1e-3, b1=0.5) if critic else None,
      scheme=training.alternating(5 if name == "wasserstein_gp" else 1))
  state = trainer.init(jax.random.key(0), jnp.zeros((256, 2)))
  steps = 1500 if name == "mmd" else 5000  # mmd's kernel costs B² a step; it is there by 1,500 (errors ≤ 0.03)
  state, metrics = jax.jit(training.make_train_loop(trainer.step, lambda k: GAUSSIAN_TARGET.sample(k, 256), steps))(state)
  assert all(np.all(np.isfinite(v)) for v in metrics.values())
  params = state.model_params["params"]
  np.testing.assert_allclose(params["mean"], GAUSSIAN_TARGET.means[0], atol=0.15)
  np.testing.assert_allclose(np.exp(params["log_scale"]), GAUSSIAN_TARGET.stds[0], atol=0.15)


def test_gradient_penalty_needs_a_critic():
  with pytest.raises(ValueError, match="act on a critic; 'mle' has none"):
    training.make_trainer(models.get("gaussian")(dim=2), "mle", model_optimizer=optax.sgd(0.1),
                          penalties=(training.penalties.gradient_penalty(10.0),))


@pytest.mark.slow
def test_vae_elbo_below_iwae_below_exact_log_likelihood(float64):
  vae = models.get("vae")(dim=3, latent_dim=2, hidden=(16,), linear_decoder=True)
  params = _init_perturbed(vae, scale=0.5)
  x = vae.apply(params, jax.random.key(1), 2000, method=vae.sample)
  p = params["params"]  # x = Wz + b + σ⊙ε  ⇒  p(x) = N(b, WWᵀ + diag σ²), in closed form
  w, b, sigma = np.asarray(p["decoder"]["kernel"]).T, np.asarray(p["decoder"]["bias"]), np.exp(np.asarray(p["decoder_log_scale"]))
  exact = scipy.stats.multivariate_normal(b, w @ w.T + np.diag(sigma**2)).logpdf(np.asarray(x)).mean()
  elbo = float(jnp.mean(vae.apply(params, x, jax.random.key(2), method=vae.elbo)))
  iwae = {k: float(jnp.mean(vae.apply(params, x, jax.random.key(3), k, method=vae.iwae))) for k in (8, 512)}
  assert elbo < iwae[8] < iwae[512] <= exact + 1e-3
  assert exact - iwae[512] < exact - iwae[8]


def test_vae_trained_on_its_elbo_improves_the_importance_weighted_nll():
  from gdiv.evaluation import nll
  vae = models.get("vae")(dim=2, latent_dim=2)
  trainer = training.make_trainer(vae, "mle", model_optimizer=optax.adam(2e-3))
  state = trainer.init(jax.random.key(0), jnp.zeros((1, 2)))
  x_test = TARGET.sample(jax.random.key(7), 2000)
  before = nll(vae, state.model_params, x_test, key=jax.random.key(1))["nll"]
  state, metrics = jax.jit(training.make_train_loop(trainer.step, lambda k: TARGET.sample(k, 256), 3000))(state)
  after = nll(vae, state.model_params, x_test, key=jax.random.key(1))
  assert "nll_upper_bound" in metrics and "nll" not in metrics  # the ELBO is a bound: metrics say so
  assert after["nll"] < before - 0.5 and "importance-weighted" in after["convention"]


class _Kernel(nn.Module):
  """A layer whose output is its own kernel, so the normalised kernel can be read off."""

  shape: tuple

  @nn.compact
  def __call__(self):
    return self.param("kernel", nn.initializers.normal(1.0), self.shape)


class _NormalisedKernel(nn.Module):
  shape: tuple

  @nn.compact
  def __call__(self, train: bool = False):
    return normalised(_Kernel(self.shape), True, train)()


def test_spectral_norm_power_iterations_in_training_mode_give_unit_largest_singular_value():
  """One power iteration per training-mode call, u kept in the state: σ_max(W/σ̂) → 1."""
  for shape in [(16, 8), (3, 3, 4, 8)]:  # a dense and a convolution kernel, as (fan_in, fan_out)
    module = _NormalisedKernel(shape)
    params, state = training.split_variables(module.init(jax.random.key(len(shape))))
    normalised_kernel = lambda state: training.apply_with_state(module, params, state, train=False)[0]
    sigma_max = lambda w: np.linalg.svd(np.asarray(w).reshape(-1, shape[-1]), compute_uv=False)[0]
    assert abs(sigma_max(normalised_kernel(state)) - 1.0) > 1e-3  # one iteration from a random u
    training_call = jax.jit(lambda state: training.apply_with_state(module, params, state, train=True)[1])
    for _ in range(100):
      state = training_call(state)
    np.testing.assert_allclose(sigma_max(normalised_kernel(state)), 1.0, atol=1e-3)


def test_packing_puts_m_samples_side_by_side_and_needs_divisible_batches():
  from gdiv.models.critics import pack
  x = jnp.arange(12.0).reshape(6, 2)
  np.testing.assert_array_equal(pack(x, 3), [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]])
  critic = MLPCritic((8,), pack=3)
  params = critic.init(jax.random.key(0), x)
  assert critic.apply(params, x).shape == (2,)
  with pytest.raises(ValueError, match="batch size divisible by 4; got 6"):
    MLPCritic((8,), pack=4).init(jax.random.key(0), x)


def test_conv_generator_and_critic_on_digit_shaped_images():
  from gdiv.models import ConvCritic
  generator = models.get("conv_generator")(dim=64)
  params = jax.jit(lambda k: generator.init(jax.random.key(0), k, 2, method=generator.sample))(jax.random.key(1))
  x = jax.jit(lambda p, k: generator.apply(p, k, 6, method=generator.sample))(params, jax.random.key(2))
  assert x.shape == (6, 64) and bool(jnp.all((x > 0) & (x < 1)))
  critic = ConvCritic((8, 8), spectral_norm=True, pack=2)
  assert jax.jit(lambda x: critic.apply(critic.init(jax.random.key(0), x), x))(x).shape == (3,)
  with pytest.raises(ValueError, match=r"expects flattened images of shape \(batch, 64\); got \(6, 8, 8\)"):
    critic.init(jax.random.key(0), x.reshape(6, 8, 8))
  with pytest.raises(ValueError, match="sides divisible by 4"):
    bad = models.get("conv_generator")(dim=36, image_shape=(6, 6))
    bad.init(jax.random.key(0), jax.random.key(1), 2, method=bad.sample)


def test_sngan_standard_cnn_critic_has_the_papers_layers_every_one_spectrally_normalised():
  from gdiv.models import StandardCNNCritic
  x = jax.random.uniform(jax.random.key(0), (4, 32 * 32 * 3))
  critic = StandardCNNCritic()
  params, state = training.split_variables(jax.eval_shape(critic.init, jax.random.key(1), x))  # shapes only
  assert [params["params"][f"NormalisedConv_{i}"]["kernel"].shape for i in range(7)] == [
      (3, 3, 3, 64), (4, 4, 64, 64), (3, 3, 64, 128), (4, 4, 128, 128), (3, 3, 128, 256), (4, 4, 256, 256),
      (3, 3, 256, 512)]
  assert params["params"]["NormalisedDense_0"]["kernel"].shape == (4 * 4 * 512, 1)  # 32 / 2³ = 4
  assert len(state["batch_stats"]) == 8  # a power-iteration vector u per layer
  small = StandardCNNCritic((28, 28), width=0.125, pack=2)  # MNIST-sized, packed, an eighth as wide
  params, state = training.split_variables(jax.jit(small.init)(jax.random.key(2), x[:, :784]))
  v, _ = jax.jit(lambda p, s, x: training.apply_with_state(small, p, s, x, train=True))(params, state, x[:, :784])
  assert v.shape == (2,) and bool(jnp.all(jnp.isfinite(v)))
  with pytest.raises(ValueError, match=r"StandardCNNCritic for 32×32×3 images expects"):
    critic.init(jax.random.key(0), x.reshape(4, 32, 32, 3))


def _direct_conv(x, kernel, stride):
  """'SAME' stride-s convolution by explicit sums (numpy; XLA's padding: the extra pixel low-right)."""
  (batch, height, width, _), (kh, kw, _, features) = x.shape, kernel.shape
  out_h, out_w = -(-height // stride), -(-width // stride)
  pad_h, pad_w = max((out_h - 1) * stride + kh - height, 0), max((out_w - 1) * stride + kw - width, 0)
  padded = np.pad(x, ((0, 0), (pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2), (0, 0)))
  y = np.zeros((batch, out_h, out_w, features))
  for r in range(out_h):
    for c in range(out_w):
      patch = padded[:, r * stride:r * stride + kh, c * stride:c * stride + kw, :]
      y[:, r, c] = np.einsum("bhwc,hwcd->bd", patch, kernel)
  return y


CONVOLUTIONS = [
    ("conv", (8, 8), (3, 3), (1, 32), (2, 2)), ("conv", (4, 4), (3, 3), (32, 64), (2, 2)),
    ("conv", (7, 7), (3, 3), (3, 5), (2, 2)), ("conv", (28, 28), (3, 3), (3, 8), (2, 2)),
    ("conv", (9, 6), (5, 2), (2, 3), (3, 1)), ("conv", (5, 5), (4, 4), (2, 3), (1, 1)),
    ("conv_transpose", (2, 2), (4, 4), (64, 32), (2, 2)), ("conv_transpose", (4, 4), (4, 4), (32, 1), (2, 2)),
    ("conv_transpose", (14, 14), (4, 4), (8, 3), (2, 2)), ("conv_transpose", (5, 3), (3, 2), (2, 3), (3, 2)),
    ("conv_transpose", (6, 6), (5, 5), (2, 2), (2, 2))]


# col2im_floats: a transposed convolution's taps in one matmul (2**20), or one matmul per phase (0)
@pytest.mark.parametrize("op, image, kernel_shape, channels, strides, col2im_floats",
                         [(*case, 2**20) for case in CONVOLUTIONS]
                         + [(*case, 0) for case in CONVOLUTIONS if case[0] == "conv_transpose"])
def test_convolutions_as_matmuls_equal_lax_convolutions_and_their_gradients(op, image, kernel_shape, channels,
                                                                            strides, col2im_floats, monkeypatch):
  from gdiv.models import convolution
  monkeypatch.setattr(convolution, "COL2IM_FLOATS", col2im_floats)
  x = jax.random.normal(jax.random.key(0), (3, *image, channels[0]))
  kernel = jax.random.normal(jax.random.key(1), (*kernel_shape, *channels)) / np.sqrt(channels[0] * 9)
  grads = lambda form, x, kernel: jax.jit(jax.grad(  # jitted: one compile, not one per op
      lambda x, k: jnp.sum(jnp.sin(getattr(convolution, op)(x, k, strides, form))), argnums=(0, 1)))(x, kernel)
  with jax.enable_x64(True):  # the reference in float64
    exact_grads = [np.asarray(g) for g in grads("lax", np.asarray(x, np.float64), np.asarray(kernel, np.float64))]
  forms = ("dense", "patches") if np.prod(image) <= 64 else ("patches",)  # dense: small images only
  for form in forms:
    for exact, by_form in zip(exact_grads, grads(form, x, kernel)):
      # float32 sums of up to 9·C·H·W terms: their rounding grows with the gradient's size
      np.testing.assert_allclose(by_form, exact, rtol=1e-5, atol=2e-5 * max(1.0, np.abs(exact).max()), err_msg=form)
  if op == "conv" and len(set(strides)) == 1:  # and the convolution itself, against sums written out
    direct = _direct_conv(np.asarray(x, np.float64), np.asarray(kernel, np.float64), strides[0])
    for form in forms:
      np.testing.assert_allclose(convolution.conv(x, kernel, strides, form), direct, atol=2e-5, err_msg=form)


def test_conv_models_compute_the_same_in_every_form():
  from gdiv.models import ConvCritic, ConvGenerator, convolution
  by = {form: ConvGenerator(dim=64, form=form) for form in (*convolution.FORMS, None)}
  params = jax.jit(lambda k: by["lax"].init(jax.random.key(0), k, 2, method=by["lax"].sample))(jax.random.key(1))
  flax_layers = nn.ConvTranspose(32, (4, 4), strides=(2, 2), padding="SAME").init(
      jax.random.key(5), jnp.zeros((1, 2, 2, 64)))  # gdiv's ConvTranspose initialises as Flax's
  ours = convolution.ConvTranspose(32, (4, 4), (2, 2)).init(jax.random.key(5), jnp.zeros((1, 2, 2, 64)))
  assert all(jax.tree.leaves(jax.tree.map(lambda a, b: bool(jnp.all(a == b)), flax_layers, ours)))
  samples = {form: jax.jit(lambda p, k, g=g: g.apply(p, k, 16, method=g.sample))(params, jax.random.key(2))
             for form, g in by.items()}
  for form in by:
    np.testing.assert_allclose(samples[form], samples["lax"], atol=1e-5, err_msg=form)
  critics = {form: ConvCritic((8, 8), form=form) for form in convolution.FORMS}
  critic_params = jax.jit(critics["lax"].init)(jax.random.key(3), samples["lax"])
  values = {form: jax.jit(critic.apply)(critic_params, samples["lax"]) for form, critic in critics.items()}
  for form in critics:
    np.testing.assert_allclose(values[form], values["lax"], atol=1e-5, err_msg=form)


def test_an_unknown_convolution_form_is_a_clear_error():
  from gdiv.models import convolution
  with pytest.raises(ValueError, match="Unknown convolution form 'fft'; choose among dense, patches, lax"):
    convolution.conv(jnp.zeros((1, 4, 4, 1)), jnp.zeros((3, 3, 1, 1)), (1, 1), "fft")


def test_spectrally_normalised_critic_without_penalty_fits_a_gaussian():
  trainer = training.make_trainer(
      models.get("gaussian")(dim=2), "wasserstein_gp", penalties=(),
      critic=MLPCritic((64, 64), "relu", spectral_norm=True), model_optimizer=optax.adam(3e-3),
      critic_optimizer=optax.adam(1e-3, b1=0.5), scheme=training.alternating(5))
  state = trainer.init(jax.random.key(0), jnp.zeros((256, 2)))
  state, _ = jax.jit(training.make_train_loop(trainer.step, lambda k: GAUSSIAN_TARGET.sample(k, 256), 3000))(state)
  params = state.model_params["params"]
  np.testing.assert_allclose(params["mean"], GAUSSIAN_TARGET.means[0], atol=0.15)


def test_mismatched_shapes_are_clear_errors_before_compiling():
  flow = training.make_trainer(models.get("flow")(dim=2), "mle", model_optimizer=optax.sgd(0.1))
  with pytest.raises(ValueError, match=r"expects data of shape \(batch, 2\); got shape \(8, 64\)"):
    flow.init(jax.random.key(0), jnp.zeros((8, 64)))
  mlp = training.make_trainer(models.get("mlp_generator")(dim=64), "js", critic=MLPCritic(),
                              model_optimizer=optax.sgd(0.1), critic_optimizer=optax.sgd(0.1))
  with pytest.raises(ValueError, match=r"flattened to \(batch, 64\); got images of shape \(8, 8, 8\)"):
    mlp.init(jax.random.key(0), jnp.zeros((8, 8, 8)))


def test_mixture_trained_by_mle_improves_test_nll_well_beyond_its_initialisation():
  mixture = models.get("mixture")(dim=2, num_components=3)
  trainer = training.make_trainer(mixture, "mle", model_optimizer=optax.adam(1e-2))
  state = trainer.init(jax.random.key(0), jnp.zeros((1, 2)))
  x_test = TARGET.sample(jax.random.key(7), 5000)
  nll = lambda s: -float(jnp.mean(mixture.apply(s.model_params, x_test, method=mixture.log_prob)))
  before = nll(state)
  state, _ = jax.jit(training.make_train_loop(trainer.step, lambda k: TARGET.sample(k, 512), 3000))(state)
  assert nll(state) < before - 1.0
  assert nll(state) < 2.2  # the true entropy is 1.97; a 3-component mixture can represent the target


def test_r1_penalty_shrinks_the_critic_gradient_on_data():
  """R1 adds (γ/2)·E_P‖∇_x V(x)‖² to the critic loss: the trained critic must be flatter on the data."""
  critic = MLPCritic((32, 32))
  x = GAUSSIAN_TARGET.sample(jax.random.key(5), 1024)

  def data_gradient(r1):
    trainer = training.make_trainer(models.get("gaussian")(dim=2), "js", critic=critic,
                                    model_optimizer=optax.adam(3e-3), critic_optimizer=optax.adam(1e-3),
                                    penalties=(training.penalties.r1(r1),) if r1 else ())
    state = trainer.init(jax.random.key(0), jnp.zeros((256, 2)))
    state, metrics = jax.jit(training.make_train_loop(
        trainer.step, lambda k: GAUSSIAN_TARGET.sample(k, 256), 300))(state)
    assert all(np.all(np.isfinite(v)) for v in metrics.values())
    grads = jax.grad(lambda v: jnp.sum(critic.apply(state.critic_params, v)))(x)
    return float(jnp.mean(jnp.sum(grads**2, axis=1)))

  assert data_gradient(10.0) < 0.5 * data_gradient(0.0)
