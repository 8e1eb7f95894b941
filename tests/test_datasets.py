"""Image datasets through the real code paths, from files written here in the real formats.

No test touches the network: downloads go to a local HTTP server or to a closed localhost port.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import json
import pickle
import socket
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from core import paths
from core.cli import train_main
from core.config import Config, ConfigError
from core.data import (DatasetError, DownloadCancelled, clear_cache, make_sampler, manual_hint,
                       prepare_dataset)
from core.data.downloads import required_files

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch):
    clear_cache()
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    yield
    clear_cache()


def image_cfg(dataset: str, root: Path | str = "", arch: str | None = None, **sets) -> Config:
    cfg = Config()
    values = {"data.dataset": dataset, "data.root": str(root),
              "model.arch": arch or ("sngan_cnn" if dataset == "cifar10" else "dcgan")}
    values.update({k.replace("__", "."): v for k, v in sets.items()})
    cfg.update(values)
    return cfg


# ------------------------------------------------------------------ writers of the real formats
def idx_bytes(array: np.ndarray) -> bytes:
    """IDX (LeCun) format: magic 0x0000 08 <ndim>, big-endian dims, then uint8 data."""
    header = struct.pack(">I", 0x0800 | array.ndim) + b"".join(struct.pack(">I", d)
                                                                for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def mnist_arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def write_mnist(root: Path, folder: str = "MNIST", n: int = 40, seed: int = 0) -> np.ndarray:
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    images, labels = mnist_arrays(n, seed)
    test_images, test_labels = mnist_arrays(7, seed + 1)
    (raw / "train-images-idx3-ubyte").write_bytes(idx_bytes(images))
    (raw / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    (raw / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(test_images))
    (raw / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(test_labels))
    return images


def write_cifar10(root: Path, per_batch: int = 6, seed: int = 0) -> np.ndarray:
    """cifar-10-batches-py as the official release has it: pickled dicts whose 'data' is
    uint8 [N, 3072] (the 1024 red, then green, then blue values of each image, row-major)."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    all_data = []
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        entry = {"batch_label": f"{name} of 6", "labels": rng.integers(0, 10, per_batch).tolist(),
                 "data": data, "filenames": [f"img_{i}.png" for i in range(per_batch)]}
        with open(folder / name, "wb") as fh:
            pickle.dump(entry, fh, protocol=2)
        if name != "test_batch":
            all_data.append(data)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": ["airplane", "automobile", "bird", "cat", "deer", "dog",
                                     "frog", "horse", "ship", "truck"],
                     "num_cases_per_batch": per_batch, "num_vis": 3072}, fh, protocol=2)
    return np.concatenate(all_data)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on exit: connections are refused


# ------------------------------------------------------------------ paths
def test_app_folders_follow_sngan_gui_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SNGAN_GUI_HOME", str(tmp_path / "home"))
    assert paths.app_home() == tmp_path / "home"
    assert paths.runs_dir() == tmp_path / "home" / "runs"
    assert paths.datasets_dir() == tmp_path / "home" / "datasets"
    assert paths.dataset_root("") == paths.datasets_dir()
    assert paths.dataset_root(str(tmp_path / "x")) == tmp_path / "x"
    assert not (tmp_path / "home").exists()  # computing a path creates nothing
    assert paths.datasets_dir(create=True).is_dir()
    monkeypatch.delenv("SNGAN_GUI_HOME")
    assert paths.app_home().name == "sngan-gui" and paths.app_home().is_absolute()


# ------------------------------------------------------------------ MNIST / Fashion-MNIST
@pytest.mark.parametrize("dataset,folder", [("mnist", "MNIST"), ("fashion_mnist", "FashionMNIST")])
def test_mnist_kinds_load_from_raw_idx_files(tmp_path, dataset, folder):
    written = write_mnist(tmp_path, folder, n=40, seed=3)
    cfg = image_cfg(dataset, tmp_path)
    data = prepare_dataset(cfg)
    assert data.images.dtype == torch.uint8 and data.images.shape == (40, 1, 28, 28)
    assert torch.equal(data.images[:, 0], torch.from_numpy(written))  # train split, exact pixels
    sampler = make_sampler(cfg, CPU)
    assert sampler.shape == (1, 28, 28) and len(sampler) == 40
    x = sampler.sample(16, torch.Generator().manual_seed(0))
    assert x.shape == (16, 1, 28, 28) and x.min() >= -1 and x.max() <= 1


def test_mnist_default_root_is_the_app_dataset_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SNGAN_GUI_HOME", str(tmp_path))
    write_mnist(tmp_path / "datasets", n=12)
    assert prepare_dataset(image_cfg("mnist")).images.shape == (12, 1, 28, 28)


def test_mnist_resized_to_32_rgb_for_the_sngan_cnn(tmp_path):
    written = write_mnist(tmp_path, n=10)
    cfg = image_cfg("mnist", tmp_path, arch="sngan_cnn", data__image_size=32, data__channels=3)
    data = prepare_dataset(cfg)
    assert data.images.shape == (10, 3, 32, 32)
    assert torch.equal(data.images[:, 0], data.images[:, 2])  # gray repeated over RGB
    mean_in, mean_out = written.mean(), data.images.float().mean().item()
    assert abs(mean_in - mean_out) < 3  # resizing keeps the brightness


def test_truncated_idx_file_is_a_clear_error(tmp_path):
    write_mnist(tmp_path, n=10)
    path = tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DatasetError, match="cannot read mnist from .*raw"):
        prepare_dataset(image_cfg("mnist", tmp_path))


# ------------------------------------------------------------------ CIFAR-10
def test_cifar10_loads_from_python_batches(tmp_path):
    written = write_cifar10(tmp_path, per_batch=6)
    cfg = image_cfg("cifar10", tmp_path)
    data = prepare_dataset(cfg)
    assert data.images.shape == (30, 3, 32, 32)
    # 'data' rows are R plane, G plane, B plane: image 7's green pixel (row 2, col 5)
    assert data.images[7, 1, 2, 5].item() == written[7, 1024 + 2 * 32 + 5]
    assert torch.equal(data.images.reshape(30, -1), torch.from_numpy(written))
    assert make_sampler(cfg, CPU).shape == (3, 32, 32)
    gray = prepare_dataset(image_cfg("cifar10", tmp_path, data__channels=1))
    assert gray.images.shape == (30, 1, 32, 32)


def test_cifar10_same_result_as_torchvision_reader(tmp_path, monkeypatch):
    """Our reader does what torchvision.datasets.CIFAR10 does after its md5 check."""
    import torchvision

    write_cifar10(tmp_path, per_batch=4)
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(torchvision.datasets.CIFAR10, "_load_meta", lambda self: None)
    theirs = torchvision.datasets.CIFAR10(str(tmp_path), train=True).data  # [N, 32, 32, 3]
    ours = prepare_dataset(image_cfg("cifar10", tmp_path)).images
    assert torch.equal(ours, torch.from_numpy(theirs).permute(0, 3, 1, 2))


def test_cifar10_corrupt_batch_names_the_file(tmp_path):
    write_cifar10(tmp_path, per_batch=2)
    bad = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    bad.write_bytes(bad.read_bytes()[:50])
    with pytest.raises(DatasetError, match="data_batch_3") as err:
        prepare_dataset(image_cfg("cifar10", tmp_path))
    assert "\n" not in str(err.value)


def test_cifar10_pickle_cannot_run_code(tmp_path):
    write_cifar10(tmp_path, per_batch=2)
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (Path.touch, (marker,))

    with open(tmp_path / "cifar-10-batches-py" / "data_batch_1", "wb") as fh:
        pickle.dump({"data": Evil()}, fh, protocol=2)
    with pytest.raises(DatasetError, match="data_batch_1"):
        prepare_dataset(image_cfg("cifar10", tmp_path))
    assert not marker.exists()


# ------------------------------------------------------------------ downloads
@pytest.mark.parametrize("dataset", ["mnist", "fashion_mnist", "cifar10"])
def test_offline_download_fails_with_where_to_put_files(tmp_path, monkeypatch, dataset):
    import torchvision.datasets as tvd

    dead = f"http://127.0.0.1:{closed_port()}/"
    if dataset == "cifar10":
        monkeypatch.setattr(tvd.CIFAR10, "url", dead + "cifar-10-python.tar.gz")
    else:
        cls = tvd.MNIST if dataset == "mnist" else tvd.FashionMNIST
        monkeypatch.setattr(cls, "mirrors", [dead, dead.replace("127.0.0.1", "localhost")])
    with pytest.raises(DatasetError) as err:
        prepare_dataset(image_cfg(dataset, tmp_path))
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"could not download {dataset}")
    assert "refused" in message.lower() or "errno" in message.lower()
    if dataset == "cifar10":
        assert f"put cifar-10-python.tar.gz (from {dead}cifar-10-python.tar.gz) in {tmp_path}," \
            in message
        assert f"cifar-10-batches-py/ folder (data_batch_1 ... data_batch_5) in {tmp_path}" in message
    else:
        folder = "MNIST" if dataset == "mnist" else "FashionMNIST"
        assert str(tmp_path / folder / "raw") in message
        for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                     "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
            assert name in message
    assert message.endswith(manual_hint(dataset, tmp_path))
    assert not list(tmp_path.rglob("*.part"))


def test_offline_cli_exits_2_with_one_line_and_writes_no_run(tmp_path, monkeypatch, capsys):
    import torchvision.datasets as tvd

    monkeypatch.setattr(tvd.MNIST, "mirrors", [f"http://127.0.0.1:{closed_port()}/"])
    out = tmp_path / "run"
    code = train_main(["--config", str(ROOT / "resources/presets/dcgan_notebook.toml"),
                       "--out", str(out), "--set", "data.dataset=mnist",
                       "--set", f"data.root={tmp_path / 'data'}", "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: could not download mnist") and "MNIST/raw" in err[0]
    assert not out.exists()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mnist_server(tmp_path, monkeypatch):
    """A local mirror serving gzipped MNIST files; torchvision is pointed at it with their md5."""
    import torchvision.datasets as tvd

    site = tmp_path / "site"
    site.mkdir()
    images, labels = mnist_arrays(300, 5)  # ~230 KB of images: several 32 KB chunks
    test_images, test_labels = mnist_arrays(5, 6)
    resources = []
    for name, array in [("train-images-idx3-ubyte", images), ("train-labels-idx1-ubyte", labels),
                        ("t10k-images-idx3-ubyte", test_images),
                        ("t10k-labels-idx1-ubyte", test_labels)]:
        blob = gzip.compress(idx_bytes(array), compresslevel=0)
        (site / f"{name}.gz").write_bytes(blob)
        resources.append((f"{name}.gz", hashlib.md5(blob).hexdigest()))
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    monkeypatch.setattr(tvd.MNIST, "mirrors", [f"http://127.0.0.1:{server.server_port}/"])
    monkeypatch.setattr(tvd.MNIST, "resources", resources)
    yield images
    server.shutdown()
    server.server_close()


def test_download_through_torchvision_reports_progress(tmp_path, mnist_server):
    calls = []
    cfg = image_cfg("mnist", tmp_path / "data")
    data = prepare_dataset(cfg, progress=lambda done, total, msg: calls.append((done, total, msg)))
    assert torch.equal(data.images[:, 0], torch.from_numpy(mnist_server))
    raw = tmp_path / "data" / "MNIST" / "raw"
    assert all(p.is_file() for p in required_files("mnist", tmp_path / "data"))
    assert (raw / "train-images-idx3-ubyte.gz").is_file()  # torchvision's md5-checked download
    downloads = [c for c in calls if c[2] == "downloading train-images-idx3-ubyte.gz"]
    total = (raw / "train-images-idx3-ubyte.gz").stat().st_size
    assert downloads[0] == (0, total, downloads[0][2]) and all(c[1] == total for c in downloads)
    assert ("unpacking train-images-idx3-ubyte.gz" in [c[2] for c in calls])
    assert any(c[2] == "reading mnist" for c in calls)
    # Second use: from disk (and memory), no download.
    clear_cache()
    calls.clear()
    assert prepare_dataset(cfg, progress=lambda *c: calls.append(c)).images.shape[0] == 300
    assert not [c for c in calls if c[2].startswith("downloading")]


def test_gz_files_put_by_hand_load_offline(tmp_path, mnist_server, monkeypatch):
    """The offline message says '.gz or unpacked': torchvision accepts md5-matching .gz files
    without the network and unpacks them."""
    import torchvision.datasets as tvd

    raw = tmp_path / "data" / "MNIST" / "raw"
    raw.mkdir(parents=True)
    site = tmp_path / "site"
    for name, _ in tvd.MNIST.resources:
        (raw / name).write_bytes((site / name).read_bytes())
    monkeypatch.setattr(tvd.MNIST, "mirrors", [f"http://127.0.0.1:{closed_port()}/"])
    calls = []
    data = prepare_dataset(image_cfg("mnist", tmp_path / "data"), progress=lambda *c: calls.append(c))
    assert torch.equal(data.images[:, 0], torch.from_numpy(mnist_server))
    assert not [c for c in calls if c[2].startswith("downloading")]


def test_download_can_be_cancelled_and_leaves_no_partial_file(tmp_path, mnist_server):
    cancel = threading.Event()
    seen = []

    def progress(done, total, message):
        seen.append(message)
        cancel.set()  # the user presses Cancel as soon as the first bar appears

    with pytest.raises(DownloadCancelled, match="cancelled"):
        prepare_dataset(image_cfg("mnist", tmp_path / "data"), progress=progress, cancel=cancel)
    assert seen == ["downloading train-images-idx3-ubyte.gz"]
    raw = tmp_path / "data" / "MNIST" / "raw"
    assert not list(raw.iterdir())  # neither the .gz nor a .part
    # Starting again without cancelling completes the download.
    assert prepare_dataset(image_cfg("mnist", tmp_path / "data")).images.shape == (300, 1, 28, 28)


# ------------------------------------------------------------------ folder
def _save(path: Path, array: np.ndarray, **kw) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kw)
    return path


def test_folder_mixed_sizes_formats_nested_dirs_and_bad_files(tmp_path, caplog):
    folder = tmp_path / "imgs"
    red = np.zeros((40, 60, 3), np.uint8)
    red[..., 0] = 255
    _save(folder / "a" / "red.png", red)
    _save(folder / "a" / "b" / "gray.jpg", np.full((100, 50), 128, np.uint8), quality=95)
    _save(folder / "c.BMP", np.full((16, 16, 3), 40, np.uint8))
    _save(folder / "d.webp", np.full((30, 30, 3), 200, np.uint8), lossless=True)
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 1] = 255
    rgba[..., 3] = 255
    _save(folder / "e" / "green.png", rgba)
    (folder / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    good_jpg = _save(tmp_path / "t.jpg", np.full((64, 64, 3), 90, np.uint8)).read_bytes()
    (folder / "truncated.jpg").write_bytes(good_jpg[: len(good_jpg) // 3])
    (folder / "notes.txt").write_text("not an image")
    _save(folder / ".thumbs" / "hidden.png", red)

    cfg = image_cfg("folder", folder)
    with caplog.at_level("WARNING"):
        data = prepare_dataset(cfg)
    assert data.images.shape == (5, 3, 28, 28)  # RGB: some images have colour
    assert [p.name for p, _ in data.skipped] == ["corrupt.png", "truncated.jpg"]
    assert data.notes and "skipped 2 unreadable file(s) of 7" in data.notes[0]
    assert "skipped 2 unreadable" in caplog.text
    by_order = data.images.float()  # sorted walk: a/b/gray.jpg, a/red.png, c.BMP, d.webp, e/green
    assert by_order[0].std(0).max() < 3 and abs(by_order[0].mean() - 128) < 3
    assert by_order[1, 0].min() == 255 and by_order[1, 1:].max() == 0
    assert by_order[2].mean() == pytest.approx(40, abs=1)
    assert by_order[4, 1].min() == 255 and by_order[4, 0].max() == 0  # alpha flattened
    sampler = make_sampler(cfg, CPU)
    assert sampler.shape == (3, 28, 28) and sampler.notes == data.notes


def test_folder_centre_crop_and_size_follow_the_model(tmp_path):
    stripes = np.zeros((30, 90, 3), np.uint8)
    stripes[:, :30, 2] = 255   # blue | green | red, side by side
    stripes[:, 30:60, 1] = 255
    stripes[:, 60:, 0] = 255
    _save(tmp_path / "wide.png", stripes)
    data = prepare_dataset(image_cfg("folder", tmp_path, arch="sngan_cnn"))
    assert data.images.shape == (1, 3, 32, 32)  # the sngan_cnn's 32x32
    centre = data.images[0].float()
    assert centre[1, :, 4:-4].min() > 240 and centre[0].max() < 16 and centre[2].max() < 16
    assert prepare_dataset(image_cfg("folder", tmp_path, data__image_size=28)).images.shape \
        == (1, 3, 28, 28)


def test_folder_whose_files_cannot_be_stat_ed_loads_uncached(tmp_path, monkeypatch):
    """A file that vanishes between the folder walk and the cache key's stat: the data still
    loads (the fallback key once went through the torchvision file list: KeyError 'folder')."""
    import core.data as data_mod

    _save(tmp_path / "a.png", np.full((10, 10), 30, np.uint8))

    def vanished(paths):
        raise FileNotFoundError(paths[0])

    monkeypatch.setattr(data_mod, "_stat_key", vanished)
    assert prepare_dataset(image_cfg("folder", tmp_path)).images.shape == (1, 1, 28, 28)


def test_folder_all_gray_is_one_channel_unless_asked(tmp_path):
    _save(tmp_path / "g1.png", np.full((10, 10), 30, np.uint8))
    _save(tmp_path / "g2.png", np.stack([np.full((12, 12), 70, np.uint8)] * 3, -1))  # RGB, gray
    assert prepare_dataset(image_cfg("folder", tmp_path)).images.shape == (2, 1, 28, 28)
    rgb = prepare_dataset(image_cfg("folder", tmp_path, data__channels=3)).images
    assert rgb.shape == (2, 3, 28, 28) and torch.equal(rgb[:, 0], rgb[:, 1])


@pytest.mark.parametrize("setup,match", [
    ("empty", "no images \\(png, jpg, jpeg, bmp, webp\\) found in {folder}"),
    ("only_text", "no images .* found in {folder}"),
    ("missing", "image folder not found: {folder}"),
    ("all_bad", "none of the 2 image files in {folder} could be read"),
])
def test_folder_errors_name_the_folder(tmp_path, setup, match):
    folder = tmp_path / "my images"
    if setup != "missing":
        folder.mkdir()
    if setup == "only_text":
        (folder / "readme.txt").write_text("hi")
    if setup == "all_bad":
        (folder / "x.png").write_bytes(b"nope")
        (folder / "sub").mkdir()
        (folder / "sub" / "y.jpg").write_bytes(b"")
    with pytest.raises(DatasetError, match=match.format(folder=folder)):
        prepare_dataset(image_cfg("folder", folder))


def test_folder_needs_a_root(tmp_path):
    with pytest.raises(DatasetError, match="data.root"):
        prepare_dataset(image_cfg("folder", ""))


def test_folder_decode_can_be_cancelled(tmp_path):
    for i in range(3):
        _save(tmp_path / f"{i}.png", np.full((8, 8), i, np.uint8))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DownloadCancelled):
        prepare_dataset(image_cfg("folder", tmp_path), cancel=cancel)


def test_prepared_data_is_reused_until_files_change(tmp_path):
    _save(tmp_path / "a.png", np.full((8, 8), 10, np.uint8))
    cfg = image_cfg("folder", tmp_path)
    first = prepare_dataset(cfg)
    assert prepare_dataset(cfg) is first
    assert make_sampler(cfg, CPU).images.data_ptr() == first.images.data_ptr()
    _save(tmp_path / "b.png", np.full((8, 8), 20, np.uint8))
    assert prepare_dataset(cfg).images.shape[0] == 2


def test_decoded_folder_is_cached_on_disk_for_fast_restarts(tmp_path, monkeypatch, caplog):
    import core.data.folder as folder_mod

    _save(tmp_path / "imgs" / "a.png", np.full((8, 8, 3), 10, np.uint8))
    (tmp_path / "imgs" / "bad.png").write_bytes(b"x")
    cfg = image_cfg("folder", tmp_path / "imgs")
    first = prepare_dataset(cfg)
    assert len(list((paths.datasets_dir() / "decoded").glob("folder-*.pt"))) == 1
    clear_cache()  # a new process: only the disk cache is left

    decoded = []
    real_decode = folder_mod.decode_image
    monkeypatch.setattr(folder_mod, "decode_image",
                        lambda path, size: decoded.append(path.name) or real_decode(path, size))
    with caplog.at_level("WARNING"):
        again = prepare_dataset(cfg)
    assert decoded == []
    assert torch.equal(again.images, first.images) and again.notes == first.notes
    assert "skipped 1 unreadable" in caplog.text  # still reported on every start
    assert [p.name for p, _ in again.skipped] == ["bad.png"]
    _save(tmp_path / "imgs" / "b.png", np.full((8, 8, 3), 99, np.uint8))
    clear_cache()
    assert prepare_dataset(cfg).images.shape[0] == 2  # the files changed: decoded again
    assert sorted(decoded) == ["a.png", "b.png", "bad.png"]


# ------------------------------------------------------------------ digits and validation
def test_digits_is_the_offline_default_at_the_models_size():
    assert make_sampler(image_cfg("digits"), CPU).shape == (1, 28, 28)
    data = prepare_dataset(image_cfg("digits", arch="sngan_cnn", data__channels=3))
    assert data.images.shape == (1797, 3, 32, 32)
    assert data.images[:, :, :2].max() == 0 and data.images.float().mean() > 10  # real strokes


@pytest.mark.parametrize("values,match", [
    ({"data.dataset": "cifar10", "model.arch": "dcgan"},
     "'dcgan' is the notebook's 28x28 model, but cifar10 images are 32x32: use model.arch = "
     "'sngan_cnn'"),
    ({"data.dataset": "mnist", "model.arch": "sngan_cnn"},
     "'sngan_cnn' needs a multiple of 8 pixels .* mnist images are 28x28: set data.image_size = 32"),
    ({"data.dataset": "digits", "model.arch": "dcgan", "data.image_size": 32}, "28x28"),
    ({"data.dataset": "folder", "model.arch": "sngan_cnn", "data.image_size": 20}, "multiple of 8"),
    ({"data.dataset": "digits", "model.arch": "dcgan", "data.channels": 2},
     "data.channels must be 0 \\(auto\\), 1 \\(grayscale\\) or 3 \\(RGB\\), got 2"),
])
def test_arch_and_image_geometry_are_validated(values, match):
    with pytest.raises(ConfigError, match=match):
        Config().update(values)


@pytest.mark.parametrize("dataset", ["ring8", "digits", "mnist", "fashion_mnist", "cifar10",
                                     "folder"])
def test_suggested_arch_is_valid_for_each_dataset(dataset):
    from core.config import suggested_arch

    cfg = Config()
    cfg.update({"data.dataset": dataset, "model.arch": suggested_arch(dataset)})
    assert cfg.model.arch == {"ring8": "mlp", "cifar10": "sngan_cnn"}.get(dataset, "dcgan")


def test_cifar10_with_dcgan_on_the_cli_is_one_clear_line(tmp_path, capsys):
    out = tmp_path / "run"
    code = train_main(["--config", str(ROOT / "resources/presets/dcgan_notebook.toml"),
                       "--out", str(out), "--set", "data.dataset=cifar10"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "sngan_cnn" in err[0] and not out.exists()


# ------------------------------------------------------------------ training end to end
@pytest.mark.slow
def test_notebook_preset_trains_headless_on_digits(tmp_path):
    out = tmp_path / "run"
    code = train_main(["--config", str(ROOT / "resources/presets/dcgan_notebook.toml"),
                       "--out", str(out), "--steps", "30", "--device", "cpu", "--no-progress"])
    assert code == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == 30
    assert all(np.isfinite([r["loss_d"], r["loss_g"]]).all() for r in records)
    assert (out / "checkpoints" / "last" / "G.pt").is_file()
    pngs = sorted((out / "samples").glob("*.png"))  # the sample grid on the fixed noise
    assert pngs and pngs[-1].name == "step_0000030.png"
    with Image.open(pngs[-1]) as grid:
        assert min(grid.size) >= 28 * 8  # 64 samples of 28x28


@pytest.mark.slow
def test_sngan_cnn_trains_on_cifar10_files_and_a_folder(tmp_path):
    write_cifar10(tmp_path / "c", per_batch=4)
    for i in range(5):
        _save(tmp_path / "f" / f"{i}.png", np.full((40, 30, 3), 50 * i, np.uint8))
    (tmp_path / "f" / "broken.png").write_bytes(b"x")
    for dataset, root in (("cifar10", tmp_path / "c"), ("folder", tmp_path / "f")):
        out = tmp_path / f"run_{dataset}"
        code = train_main(["--config", str(ROOT / "resources/presets/cifar10_sngan.toml"),
                           "--out", str(out), "--steps", "2", "--device", "cpu", "--no-progress",
                           "--set", f"data.dataset={dataset}", "--set", f"data.root={root}",
                           "--set", "model.g_width=4", "--set", "model.d_width=4",
                           "--set", "data.batch_size=8"])
        assert code == 0, dataset
        d_state = torch.load(out / "checkpoints" / "last" / "D.pt", weights_only=True)
        assert {"conv1.weight", "conv7.weight", "fc.weight"} <= set(d_state)
