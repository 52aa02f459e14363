"""catgan: train, explore and audit cat-generating GANs."""
from catgan.generator import LoadedGenerator, load_generator

__all__ = ["load_generator", "LoadedGenerator"]
