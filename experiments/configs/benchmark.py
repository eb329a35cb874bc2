"""The sizes of experiments.benchmark's configurations, which its PyTorch side (benchmark_torch)
builds too: data, not a study (experiments.benchmark is run with flags, not --config)."""

from typing import NamedTuple

MLP_SIZES = {"toy": (64, 256), "mid": (256, 512)}  # the 2-D GANs: hidden width (3 layers), batch size


class ImageConfig(NamedTuple):
  shape: tuple[int, ...]
  batch_size: int
  latent_dim: int
  generator_channels: tuple[int, int]
  critic_channels: tuple[int, int]


IMAGE_CONFIGS = {"image": ImageConfig((8, 8), 128, 32, (64, 32), (32, 64)),
                 "image28": ImageConfig((28, 28), 64, 100, (128, 64), (64, 128)),
                 "image32": ImageConfig((32, 32, 3), 64, 100, (128, 64), (64, 128))}
