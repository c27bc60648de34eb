"""A learner's own classes in the store (`core.data.own_classes`): names, examples, the split, the zip round trip."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest

from core.data import own_classes
from core.data.image_folder import FolderLimits
from core.data.own_classes import ClassSetError
from core.data.unpacking import ChildBudget, read_upload
from core.predict.sketches import drawn_shape

OWNER, OTHER = "a" * 32, "b" * 32


def examples(count: int, value: int = 0, side: int = 32, channels: int = 1) -> np.ndarray:
    images = np.zeros((count, side, side, channels), dtype=np.uint8)
    images[:, 4:-4, 4:-4] = np.arange(count, dtype=np.uint8)[:, None, None, None] + value
    return images


def test_names_are_kept_as_typed_and_bad_sets_of_names_are_refused():
    hostile = ["<img src=x onerror=alert(1)>", "**bold** [link](http://x)", ":red[x] $x^2$", "  thumbs up  "]
    assert own_classes.check_names(hostile) == [*hostile[:3], "thumbs up"]
    with pytest.raises(ClassSetError, match="at least 2 classes"):
        own_classes.check_names(["only one", "  ", ""])
    with pytest.raises(ClassSetError, match="at most 10"):
        own_classes.check_names([f"c{i}" for i in range(11)])
    with pytest.raises(ClassSetError, match="same name"):
        own_classes.check_names(["Star", "star"])
    with pytest.raises(ClassSetError, match="control or invisible"):
        own_classes.check_names(["a\u202eb", "c"])
    with pytest.raises(ClassSetError, match="at most 40"):
        own_classes.check_names(["x" * 41, "y"])


def test_examples_are_added_deleted_and_only_by_the_owner(tmp_path):
    class_set = own_classes.create_set(OWNER, ["circle", "star"], 32, "grayscale", tmp_path)
    assert own_classes.readiness(class_set) == ("Add at least 10 examples to each class: “circle” has 0, “star” "
                                                "has 0.")
    class_set = own_classes.add_examples(class_set.set_id, OWNER, 0, examples(12), tmp_path)
    class_set = own_classes.add_examples(class_set.set_id, OWNER, 1, examples(3), tmp_path)
    assert class_set.counts == [12, 3] and own_classes.readiness(class_set) == (
        "Add at least 10 examples to each class: “star” has 3.")
    with pytest.raises(ClassSetError, match="not yours"):
        own_classes.add_examples(class_set.set_id, OTHER, 0, examples(1), tmp_path)
    with pytest.raises(ClassSetError, match="not yours"):
        own_classes.delete_example(class_set.set_id, OTHER, class_set.examples[0][0], tmp_path)
    with pytest.raises(ClassSetError, match="uint8 images of"):
        own_classes.add_examples(class_set.set_id, OWNER, 0, examples(1, side=64), tmp_path)
    with pytest.raises(ClassSetError, match="no class number 3"):
        own_classes.add_examples(class_set.set_id, OWNER, 2, examples(1), tmp_path)
    gone = class_set.examples[0][0]
    class_set = own_classes.delete_example(class_set.set_id, OWNER, gone, tmp_path)
    assert class_set.counts == [11, 3] and not (tmp_path / "classsets" / class_set.set_id / f"{gone}.png").exists()
    assert [one.set_id for one in own_classes.sets_of(OWNER, tmp_path)] == [class_set.set_id]
    assert own_classes.sets_of(OTHER, tmp_path) == []


def test_a_set_holds_at_most_its_cap_and_a_refused_batch_leaves_no_file(tmp_path):
    class_set = own_classes.create_set(OWNER, ["a", "b"], 32, "grayscale", tmp_path)
    own_classes.add_examples(class_set.set_id, OWNER, 0, examples(8), tmp_path, max_examples=10)
    with pytest.raises(ClassSetError, match="at most 10 examples"):
        own_classes.add_examples(class_set.set_id, OWNER, 1, examples(3), tmp_path, max_examples=10)
    assert len(list((tmp_path / "classsets" / class_set.set_id).glob("*.png"))) == 8


def test_the_split_is_every_fifth_example_of_each_class(tmp_path):
    class_set = own_classes.create_set(OWNER, ["a", "b", "c"], 32, "grayscale", tmp_path)
    for label, count in enumerate((10, 15, 12)):
        class_set = own_classes.add_examples(class_set.set_id, OWNER, label, examples(count, 10 * label), tmp_path)
    dataset = own_classes.to_dataset(class_set, tmp_path)
    assert dataset.name == class_set.key and dataset.class_names == ("a", "b", "c")
    assert np.bincount(dataset.y_test).tolist() == [2, 3, 2]
    assert np.bincount(dataset.y_train).tolist() == [8, 12, 10]
    # The 5th and 10th examples of class a are its test images: values 4 and 9 inside the frame.
    assert dataset.x_test[dataset.y_test == 0][:, 16, 16, 0].tolist() == [4, 9]
    assert dataset.image_shape == (32, 32, 1)


def test_the_zip_round_trips_through_the_dataset_upload(tmp_path):
    class_set = own_classes.create_set(OWNER, ["circle", "a/b: <c>", "A\\B? <C>"], 32, "rgb", tmp_path)
    for label in range(3):
        class_set = own_classes.add_examples(class_set.set_id, OWNER, label, examples(10, 40 * label, channels=3),
                                             tmp_path)
    data = own_classes.export_zip(class_set, tmp_path)
    folders = sorted({name.split("/")[0] for name in zipfile.ZipFile(io.BytesIO(data)).namelist()})
    assert folders == ["A_B_ _C_ (2)", "a_b_ _c_", "circle"]  # safe, and two names that clash stay two folders
    content = read_upload(data, (32, 32), "rgb", 0.2, 0, FolderLimits(), ChildBudget(60.0, 2048))
    images = np.concatenate([content.x_train, content.x_test])
    labels = np.concatenate([content.y_train, content.y_test])
    again = own_classes.import_folders(OTHER, content.class_names, images, labels, 32, "rgb", tmp_path)
    assert sorted(again.counts) == [10, 10, 10]
    original, _, _ = own_classes.load_examples(class_set, tmp_path)
    copied, _, _ = own_classes.load_examples(again, tmp_path)
    assert sorted(image.tobytes() for image in original) == sorted(image.tobytes() for image in copied)


def test_photos_are_cropped_to_their_middle_square_and_a_one_pixel_photo_is_refused():
    photo = np.zeros((60, 100, 3), dtype=np.uint8)
    photo[:, 20:80] = 255  # the middle 60×60 square is white; the strips either side are black
    square = own_classes.prepare_photo(photo, 32, "grayscale")
    assert square.shape == (32, 32, 1) and square.min() == 255
    assert own_classes.prepare_photo(photo, 64, "rgb").shape == (64, 64, 3)
    with pytest.raises(ClassSetError, match="1×1 pixels: too small"):
        own_classes.prepare_photo(np.zeros((1, 1, 3), dtype=np.uint8), 32, "grayscale")


def test_drawings_are_prepared_as_predict_prepares_them():
    drawing = drawn_shape("star", np.random.default_rng(0))
    prepared = own_classes.prepare_drawing_example(drawing, 32, "grayscale")
    rows, columns = np.nonzero(prepared[:, :, 0] > 0)
    assert max(rows.max() - rows.min(), columns.max() - columns.min()) + 1 <= own_classes.drawing_box(32) + 1
    assert own_classes.prepare_drawing_example(np.zeros((280, 280), dtype=np.uint8), 32, "grayscale") is None
    assert own_classes.prepare_drawing_example(drawing, 64, "rgb").shape == (64, 64, 3)


def test_sharing_and_expiry(tmp_path):
    class_set = own_classes.create_set(OWNER, ["a", "b"], 32, "grayscale", tmp_path)
    assert own_classes.shared_with("class1", tmp_path) == []
    own_classes.share_with_class(class_set.set_id, OWNER, "class1", tmp_path)
    shared = own_classes.shared_with("class1", tmp_path)
    assert [one.set_id for one in shared] == [class_set.set_id]
    assert own_classes.may_read(shared[0], OTHER, "class1") and not own_classes.may_read(shared[0], OTHER, "class2")
    with pytest.raises(ClassSetError, match="not yours"):
        own_classes.share_with_class(class_set.set_id, OTHER, "", tmp_path)
    assert own_classes.expire_sets({OWNER}, tmp_path) == []
    assert own_classes.expire_sets(set(), tmp_path) == [class_set.set_id]
    assert own_classes.read_set(class_set.set_id, tmp_path) is None


def test_a_damaged_manifest_or_example_does_not_break_the_set(tmp_path):
    class_set = own_classes.create_set(OWNER, ["a", "b"], 32, "grayscale", tmp_path)
    class_set = own_classes.add_examples(class_set.set_id, OWNER, 0, examples(3), tmp_path)
    (tmp_path / "classsets" / class_set.set_id / f"{class_set.examples[0][0]}.png").write_bytes(b"broken")
    images, labels, _ = own_classes.load_examples(class_set, tmp_path)
    assert len(images) == 2 and labels.tolist() == [0, 0]
    (tmp_path / "classsets" / class_set.set_id / "manifest.json").write_text("{not json")
    assert own_classes.read_set(class_set.set_id, tmp_path) is None
    assert own_classes.describe_key(class_set.key, tmp_path) == "My classes (a set that was deleted)"
    with pytest.raises(ClassSetError):
        own_classes.set_id_of("own:../../etc")
