"""Loading the user's own class folders from zips, tars and folders, including hostile ones."""

from __future__ import annotations

import io
import re
import tarfile
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.data.datasets import load_image_folder
from core.data.image_folder import FolderLimits, ImageFolderError, UnsafeArchiveError


def png(colour: tuple[int, int, int], size: tuple[int, int] = (10, 6), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour if mode != "L" else colour[0]).save(buffer, format="PNG")
    return buffer.getvalue()


def make_zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def two_classes(count: int = 5, prefix: str = "") -> dict[str, bytes]:
    files = {f"{prefix}cats/{i:03}.png": png((200, 10, 10)) for i in range(count)}
    files.update({f"{prefix}dogs/{i:03}.jpg": _jpeg((10, 10, 200)) for i in range(count)})
    return files


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 12), colour).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def test_zip_of_class_folders_is_resized_and_split_per_class():
    dataset = load_image_folder(make_zip(two_classes(10)), image_size=(8, 8), color_mode="rgb", test_fraction=0.2)
    assert dataset.class_names == ("cats", "dogs")
    assert dataset.x_train.shape == (16, 8, 8, 3) and dataset.x_test.shape == (4, 8, 8, 3)
    assert np.bincount(dataset.y_test).tolist() == [2, 2]
    cats = dataset.x_train[dataset.y_train == 0]
    assert (cats[..., 0] > 150).all() and (cats[..., 2] < 60).all()  # red stays red after resizing


def test_split_is_seeded():
    data = make_zip(two_classes(20))
    first = load_image_folder(data, (4, 4), seed=3)
    again = load_image_folder(data, (4, 4), seed=3)
    other = load_image_folder(data, (4, 4), seed=4)
    np.testing.assert_array_equal(first.x_test, again.x_test)
    assert first.x_test.shape == other.x_test.shape


def test_existing_train_and_test_folders_are_kept_and_wrapper_skipped():
    files = {f"wrap/train/{k}": v for k, v in two_classes(3).items()}
    files.update({f"wrap/test/{k}": v for k, v in two_classes(2).items()})
    files["wrap/README.txt"] = b"hello"
    dataset = load_image_folder(make_zip(files), (6, 6), color_mode="grayscale")
    assert dataset.x_train.shape == (6, 6, 6, 1) and dataset.x_test.shape == (4, 6, 6, 1)
    assert any("not an image" in note or "not images" in note for note in dataset.notes)


def test_zip_slip_path_is_refused():
    files = two_classes(2)
    files["../evil.png"] = png((0, 0, 0))
    with pytest.raises(UnsafeArchiveError, match=r"'\.\./evil\.png'.*outside"):
        load_image_folder(make_zip(files))


def test_absolute_path_is_refused():
    files = two_classes(2)
    files["/etc/evil.png"] = png((0, 0, 0))
    with pytest.raises(UnsafeArchiveError):
        load_image_folder(make_zip(files))


def test_over_the_size_limit_is_refused_before_decoding():
    files = two_classes(2)
    files["cats/big.png"] = bytes(200_000)  # compresses to almost nothing
    archive = make_zip(files)
    assert len(archive) < 20_000
    with pytest.raises(ImageFolderError, match=r"Too large.*uncompressed"):
        load_image_folder(archive, limits=FolderLimits(max_total_bytes=100_000))


def test_too_many_files_is_refused():
    with pytest.raises(ImageFolderError, match="Too many files: more than 5"):
        load_image_folder(make_zip(two_classes(3)), limits=FolderLimits(max_files=5))


def test_an_image_over_the_pixel_limit_is_skipped_and_named():
    files = two_classes(2)
    files["dogs/huge.png"] = png((1, 2, 3), size=(400, 300))
    dataset = load_image_folder(make_zip(files), limits=FolderLimits(max_image_pixels=10_000))
    assert len(dataset.x_train) + len(dataset.x_test) == 4
    assert re.search(r"Skipped 1 image.*dogs/huge\.png: 400×300 pixels.*limit of 10,000", " ".join(dataset.notes))


def test_one_class_only_and_no_class_folders_are_explained():
    with pytest.raises(ImageFolderError, match="Only one class folder \\('cats'\\)"):
        load_image_folder(make_zip({f"cats/{i}.png": png((1, 1, 1)) for i in range(3)}))
    with pytest.raises(ImageFolderError, match="not inside class folders"):
        load_image_folder(make_zip({f"{i}.png": png((1, 1, 1)) for i in range(3)}))
    with pytest.raises(ImageFolderError, match="No images found"):
        load_image_folder(make_zip({"notes.txt": b"x"}))


def test_corrupt_image_and_non_zip_are_clear_errors():
    files = two_classes(2)
    noise = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(noise, "PNG")
    files["cats/broken.png"] = noise.getvalue()[:3000]  # header intact, pixel data cut off
    dataset = load_image_folder(make_zip(files))  # skipped, with a note naming it
    assert len(dataset.x_train) + len(dataset.x_test) == 4
    assert "cats/broken.png: the image is damaged or truncated" in " ".join(dataset.notes)
    with pytest.raises(ImageFolderError, match=r"No readable image is left in class folder\(s\) \['cats'\]"):
        load_image_folder(make_zip({"cats/broken.png": files["cats/broken.png"], "dogs/1.png": png((1, 1, 1))}))
    with pytest.raises(ImageFolderError, match="No image could be read"):
        load_image_folder(make_zip({"cats/a.png": b"x", "dogs/b.png": b"y"}))
    with pytest.raises(ImageFolderError, match=r"not a zip \(nor a \.tar\.gz archive or a folder\)"):
        load_image_folder(b"just some text")


def test_folder_and_tar_gz_give_the_same_dataset(tmp_path):
    files = two_classes(4, prefix="pets/")
    for name, data in files.items():
        (tmp_path / "tree" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "tree" / name).write_bytes(data)
    archive = tmp_path / "pets.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "tree" / "pets", arcname="pets")
    from_folder = load_image_folder(tmp_path / "tree", (5, 5), seed=1)
    from_tar = load_image_folder(archive, (5, 5), seed=1)
    from_zip = load_image_folder(make_zip(files), (5, 5), seed=1)
    for other in (from_tar, from_zip):
        np.testing.assert_array_equal(from_folder.x_train, other.x_train)
        np.testing.assert_array_equal(from_folder.y_test, other.y_test)


def test_mixed_image_modes_decode(tmp_path):
    files = two_classes(2)
    files["cats/grey.png"] = png((90, 0, 0), mode="L")
    files["cats/alpha.png"] = png((255, 0, 0, 0), mode="RGBA")  # fully transparent: composited on black
    buffer = io.BytesIO()
    Image.fromarray(np.full((4, 4), 65535, np.uint16)).save(buffer, format="PNG")
    files["dogs/sixteen.png"] = buffer.getvalue()
    dataset = load_image_folder(make_zip(files), (4, 4), color_mode="grayscale", test_fraction=0.0)
    assert len(dataset.x_train) == 7
    values = {int(image.max()) for image in dataset.x_train}
    assert 0 in values and 255 in values  # transparent → black; 16-bit white → 255, not clipped garbage


def test_skipped_files_are_named_and_counted_in_words():
    files = {**two_classes(), "cats/readme.txt": b"x", "stray.png": png((1, 2, 3)), "dogs/labels.csv": b"x"}
    notes = " ".join(load_image_folder(make_zip(files), image_size=(8, 8)).notes)
    assert "Skipped 2 files that are not images: " in notes and "cats/readme.txt" in notes
    assert "dogs/labels.csv" in notes
    assert "Skipped 1 image lying outside any class folder: stray.png." in notes
    assert "(s)" not in notes
    many = {**two_classes(), **{f"cats/note{i}.txt": b"x" for i in range(8)}}
    assert "and 3 more." in " ".join(load_image_folder(make_zip(many), image_size=(8, 8)).notes)
