"""The GAN families, by name."""
from catgan.models.began import BEGAN
from catgan.models.dcgan import DCGAN
from catgan.models.pgwgan import PGWGAN

FAMILIES = {f.name: f for f in (BEGAN, PGWGAN, DCGAN)}


def get_family(name: str):
    if name not in FAMILIES:
        raise ValueError(f"unknown model family '{name}'; choose from {', '.join(FAMILIES)}")
    return FAMILIES[name]
