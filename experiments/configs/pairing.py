"""One model family × divergence pair of the quality matrix, over N seeds (one vmapped program).

  python -m experiments.sweep --config=experiments/configs/pairing.py \
      --config.model=flow --config.divergence=js --workdir=runs/pairing_flow_js

The quality matrix's budget and scores (experiments.pairings; configs/quality_matrix.py),
for one cell: a family or divergence of the user's own, registered in a file
passed with --import, is trained and scored exactly like the built-in ones.
"""

from experiments.configs import quality_matrix


def get_config(variant: str = ""):
  """The quality matrix's config; `pairing.py:recipes` trains the pair with its divergence's recipe."""
  return quality_matrix.get_config(variant)
