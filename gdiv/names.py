"""Close matches for misspelt names, so that every refusal of a name suggests the one meant."""

from __future__ import annotations

import difflib
from typing import Iterable


def did_you_mean(name: str, known: Iterable[str]) -> str:
  """" (did you mean 'kl'?)" for the closest of `known` to `name`, "" when none is close."""
  match = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
  return f" (did you mean {match[0]!r}?)" if match else ""
