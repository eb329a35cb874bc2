"""Flat config fields → make_trainer's critic-side arguments, resolved in this one place.

Configs, flags, recipes (gdiv.divergences.Recipe) and sweeps name the critic's options as flat
scalar fields; `critic_options` turns them into the composed values make_trainer takes:

  scheme "alternating" | "simultaneous", n_critic      → schemes.alternating(n) | simultaneous()
  generator_loss                                       → as it is
  gradient_penalty (None: the divergence's own)        → penalties.gradient_penalty(λ)
  every field of penalties.FIELDS (0: off): r1_penalty, r2_penalty, roth_gamma (with
    roth_anneal_steps: T > 0 anneals over T steps, -1 over the run's `steps`, 0: constant),
    and every other registered one (a plugin's too)    → that penalty
  critic_bound (0: unbounded)                          → critic.bounded(c)

Values may be traced (a sweep's), and a traced value always takes part (it may be 0 in some runs).
A study config's fields go through `config_options`; with config.use_recipe, `recipe_fields` are the
fields the divergence's recipe sets (gdiv.divergences.Recipe).
"""

from __future__ import annotations

import jax

from gdiv import divergences
from gdiv.training import penalties, schemes
from gdiv.training.critic import bounded, is_set


def stabilisers() -> tuple[str, ...]:
  """The flat fields of the critic's stabilisers: every registered penalty field and critic_bound."""
  return (*penalties.FIELDS, "critic_bound")


def scheme_of(name: str, n_critic: int = 1) -> schemes.Scheme:
  if name not in schemes.SCHEMES:
    raise ValueError(f"Unknown update scheme {name!r}; choose one of {', '.join(schemes.SCHEMES)}.")
  if name == schemes.simultaneous().name:
    if n_critic != 1:
      raise ValueError(f"The simultaneous scheme updates critic and model once per step: "
                       f"use n_critic=1 (got {n_critic}) or scheme='alternating'.")
    return schemes.simultaneous()
  return schemes.alternating(n_critic)


def critic_options(divergence, *, scheme: str = "alternating", n_critic: int = 1,
                   generator_loss: str = "saddle", gradient_penalty=None, critic_bound=0.0,
                   roth_anneal_steps: int = 0, steps: int | None = None, **penalty_fields) -> dict:
  """make_trainer's keyword arguments (scheme, generator_loss, penalties, critic_transform) from
  flat fields; a divergence without a critic takes only its scheme (the rest act on a critic)."""
  divergence = divergences.get(divergence) if isinstance(divergence, str) else divergence
  unknown = sorted(set(penalty_fields) - set(penalties.FIELDS))
  if unknown:
    raise ValueError(f"Unknown critic option(s) {', '.join(unknown)}; the penalty fields are "
                     f"{', '.join(penalties.FIELDS)}.")
  if not divergence.needs_critic:
    return {"scheme": scheme_of(scheme)}
  if not isinstance(critic_bound, jax.core.Tracer) and critic_bound < 0:
    raise ValueError(f"Penalty weights and critic bounds must be ≥ 0; got critic_bound={critic_bound}.")
  weight = divergence.gradient_penalty if gradient_penalty is None else gradient_penalty
  chosen = [penalties.gradient_penalty(weight)] if is_set(weight) else []
  context = {"roth_anneal_steps": roth_anneal_steps, "steps": steps}
  chosen += [penalties.FIELDS[name].build(penalty_fields[name], context)
             for name in penalties.FIELDS if is_set(penalty_fields.get(name, 0.0))]
  return {"scheme": scheme_of(scheme, n_critic), "generator_loss": generator_loss, "penalties": tuple(chosen),
          "critic_transform": bounded(critic_bound) if is_set(critic_bound) else None}


def recipe_fields(config) -> dict:
  """With config.use_recipe, the fields config.divergence's recipe sets (gdiv.divergences.Recipe),
  {field: value}; {} without. A study that asks for recipes must have every field they set."""
  if not config.get("use_recipe"):
    return {}
  recipe = divergences.recipe_of(divergences.get(config["divergence"]))
  missing = [field for field in recipe.settings() if field not in config]
  if missing:
    raise ValueError(f"config.use_recipe: the recipe of {config['divergence']!r} sets "
                     f"{', '.join(missing)}, which this study's config does not have; add the fields "
                     "or set config.use_recipe=False.")
  return recipe.settings()


def config_options(config, value=None, divergence=None) -> dict:
  """make_trainer's critic-side arguments from a study config's flat fields (scheme, n_critic,
  generator_loss, gradient_penalty and the stabilisers it has; absent ones take critic_options'
  defaults), through `critic_options`. value(field): a field's value (a traced one in a sweep);
  default config[field]. divergence: default config.divergence."""
  value = value or (lambda field: config[field])
  flat = {field: value(field) for field in ("gradient_penalty", *stabilisers()) if field in config}
  flat |= {field: config[field] for field in ("scheme", "n_critic", "generator_loss", "roth_anneal_steps")
           if field in config}
  return critic_options(config.divergence if divergence is None else divergence, steps=config.get("steps"),
                        **flat)
