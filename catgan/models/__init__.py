"""The GAN families, by name."""
from catgan.models.began import BEGAN
from catgan.models.dcgan import DCGAN
from catgan.models.pgwgan import PGWGAN
from catgan.models.stylegan2 import StyleGAN2

FAMILIES = {f.name: f for f in (StyleGAN2, BEGAN, PGWGAN, DCGAN)}


def get_family(name: str):
    if name not in FAMILIES:
        raise ValueError(f"unknown model family '{name}'; choose from {', '.join(FAMILIES)}")
    return FAMILIES[name]
