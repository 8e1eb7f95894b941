import numpy as np
import pytest
import torch

from core.config import DataConfig
from core.data import make_sampler, mode_centres, mode_std


@pytest.mark.parametrize("name,k,std", [("ring8", 8, 0.02), ("grid25", 25, 0.05),
                                        ("swissroll", 40, 0.1)])
def test_toy_layout_and_samples(name, k, std):
    centres = mode_centres(name)
    assert centres.shape == (k, 2)
    assert mode_std(name) == std
    sampler = make_sampler(DataConfig(dataset=name), torch.device("cpu"))
    x = sampler.sample(4000, torch.Generator().manual_seed(0))
    assert x.shape == (4000, 2) and x.dtype == torch.float32
    d = np.linalg.norm(x.numpy()[:, None, :] - centres[None], axis=2).min(1)
    # Each coordinate ~ N(centre, std^2): the distance to the nearest centre is Rayleigh(std).
    assert np.median(d) == pytest.approx(std * np.sqrt(2 * np.log(2)), rel=0.15)
    assert (d < 5 * std).mean() > 0.99


def test_ring8_centres_on_radius_2():
    c = mode_centres("ring8")
    assert np.allclose(np.linalg.norm(c, axis=1), 2.0)
    assert len(np.unique(np.round(np.arctan2(c[:, 1], c[:, 0]), 6))) == 8


def test_grid25_centres():
    c = mode_centres("grid25")
    assert set(np.unique(c[:, 0])) == {-4.0, -2.0, 0.0, 2.0, 4.0}


@pytest.mark.parametrize("name", ["ring8", "grid25", "swissroll", "digits"])
def test_sampling_is_deterministic_under_seed(name):
    sampler = make_sampler(DataConfig(dataset=name), torch.device("cpu"))
    a = sampler.sample(64, torch.Generator().manual_seed(7))
    b = sampler.sample(64, torch.Generator().manual_seed(7))
    c = sampler.sample(64, torch.Generator().manual_seed(8))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_digits_are_real_images_in_range():
    sampler = make_sampler(DataConfig(dataset="digits"), torch.device("cpu"))
    assert sampler.shape == (1, 28, 28)
    assert len(sampler) == 1797
    x = sampler.sample(256, torch.Generator().manual_seed(0))
    assert x.min() >= -1 and x.max() <= 1
    # Real digits: black background border, bright strokes in the middle.
    assert x[:, :, :3, :].max() == -1
    assert (x[:, :, 8:20, 8:20] > 0.5).float().mean() > 0.1
