"""Dataset Explorer: what image data looks like to a network."""

import numpy as np
import streamlit as st

from core.data.datasets import DatasetNotFoundError, source_kind
from core.data.idx import IdxFormatError
from core.data.images import upscale_nearest
from core.data.sampling import grid_page
from core.data.statistics import balance_sentence
from core.evaluate.descriptions import describe_dataset_image
from ui import hosting, loaders
from ui.choices import keep_if_offered
from ui.dataset_picker import dataset_picker
from ui.explorer import figures as explorer_figures
from ui.explorer import state
from ui.explorer import views as explorer_views
from ui.navigation import require_router
from ui.text import plain

require_router()

PER_PAGE = 32

st.title("Dataset Explorer")
key = dataset_picker(on_load=state.show_first_image)
try:
    dataset = loaders.get_dataset(key)
except (DatasetNotFoundError, IdxFormatError) as error:
    st.error(plain(loaders.dataset_problem(key, error)), icon=":material/folder_off:")
    st.info("Pick another dataset in the sidebar: scikit-learn's Digits always works.")
    st.stop()

with st.sidebar:
    split = st.radio("Split", ["train", "test"], horizontal=True, key=state.SPLIT)
images, labels = dataset.split(split)
if not len(images):
    st.warning(f"The {split} split of this dataset is empty (each class has too few images to hold some back). "
               "Choose the other split in the sidebar.", icon=":material/warning:")
    st.stop()
if st.session_state[state.IMAGE_INDEX] >= len(images):
    st.session_state[state.IMAGE_INDEX] = 0
with st.sidebar:
    index = st.number_input(f"Image index (0–{len(images) - 1:,})", 0, len(images) - 1, key=state.IMAGE_INDEX)
image, label = images[index], int(labels[index])

height, width, channels = dataset.image_shape
facts = st.columns(4)
facts[0].metric("Training images", f"{len(dataset.x_train):,}")
facts[1].metric("Test images", f"{len(dataset.x_test):,}")
facts[2].metric("Image shape (H, W, C)", f"{height} × {width} × {channels}")
facts[3].metric("Classes", dataset.num_classes)
source = source_kind(dataset.source) if hosting.limits().hosted else dataset.source  # no server paths to visitors
st.caption(plain(f"{dataset.description} Source: {source}."))
for note in dataset.notes:
    st.info(plain(note), icon=":material/info:")

section = (st.segmented_control("Section", state.SECTIONS, key=state.SECTION, label_visibility="collapsed")
           or state.SECTIONS[0])


def inspect(position: int) -> None:
    """Callback: show one grid image in detail."""
    st.session_state[state.IMAGE_INDEX] = position
    st.session_state[state.SECTION] = "Pixels & label"


if section == "Overview":
    train_counts = loaders.class_counts(key, "train", dataset)
    test_counts = loaders.class_counts(key, "test", dataset)
    st.header("Class balance")
    st.plotly_chart(explorer_figures.class_balance(dataset.class_names, train_counts, test_counts),
                    key="explorer_balance")
    st.caption(balance_sentence(train_counts, dataset.class_names))
    with st.expander("Pixels as numbers"):
        st.markdown(
            f"A computer stores each image here as a grid of {height} × {width} numbers"
            + (" for each of the red, green and blue channels" if channels == 3 else "")
            + ", each from 0 (black) to 255 (full brightness). The network never sees a '7' or a 'cat', only "
              f"these {height * width * channels:,} numbers, and it has to learn which patterns of them go with "
              "which label. Open *Pixels & label* to read the numbers of one image."
        )

elif section == "Samples":
    controls = st.columns([3, 1, 1, 1])
    keep_if_offered(state.CLASSES, range(dataset.num_classes))  # another dataset's labels came back as the value
    classes = controls[0].multiselect("Show only these classes", range(dataset.num_classes),
                                      format_func=lambda c: f"{c}: {dataset.class_names[c]}", key=state.CLASSES)
    shuffle = controls[1].toggle("Shuffle", value=True, key=state.SHUFFLE)
    seed = controls[2].number_input("Seed", 0, 1_000_000, 0, key=state.SEED, disabled=not shuffle)
    probe = grid_page(labels, classes, seed if shuffle else None, 0, PER_PAGE)
    page = controls[3].number_input(f"Page (of {probe.page_count:,})", 1, probe.page_count, 1,
                                    key=f"{state.GRID_PAGE}{probe.page_count}") - 1
    chosen = grid_page(labels, classes, seed if shuffle else None, page, PER_PAGE)
    st.caption(f"{chosen.total:,} {split} images match; showing {len(chosen.indices)} "
               f"(page {chosen.page + 1} of {chosen.page_count:,}). Captions: index · class.")
    factor = explorer_views.display_size(height)
    st.image([upscale_nearest(images[i], factor) for i in chosen.indices],
             caption=[f"#{i} · {plain(dataset.class_names[labels[i]])}" for i in chosen.indices],
             alt=[describe_dataset_image(int(i), "training" if split == "train" else split,
                                     dataset.class_names[labels[i]]) for i in chosen.indices])
    keep_if_offered(state.INSPECT, [*chosen.indices, None])  # another page of images
    picked = st.selectbox("Inspect one of these images", chosen.indices, index=None, key=state.INSPECT,
                          format_func=lambda i: f"#{i} · {dataset.class_names[labels[i]]}",
                          placeholder="choose an image to see its pixel values")
    if picked is not None:
        st.button(f"Show image #{picked} in detail", on_click=inspect, args=(int(picked),), key=state.INSPECT_GO)

elif section == "Pixels & label":
    st.header(f"{split.capitalize()} image #{index}: {plain(dataset.class_names[label])}")
    explorer_views.label_view(dataset, label)
    explorer_views.pixel_values(image)

elif section == "Statistics":
    st.header(f"Mean image of each class ({split} split)")
    means = loaders.mean_images(key, split, dataset)
    st.plotly_chart(explorer_figures.image_row(means, dataset.class_names), key="explorer_means")
    st.caption("Each picture averages every image of one class, pixel by pixel. Sharp mean images mean the "
               "class is drawn consistently in the same place; blurry ones mean it varies a lot.")
    st.header("Pixel-value histogram")
    counts = loaders.histogram(key, split, dataset)
    log_scale = st.toggle("Logarithmic count axis", value=True, key=state.LOG_SCALE,
                          help="Most pixels are background, so on a linear axis the 0 bar hides the rest.")
    st.plotly_chart(explorer_figures.intensity_histogram(counts, log_scale), key="explorer_histogram")
    zeros = counts[:, 0].sum() / counts.sum()
    st.caption(f"{zeros:.1%} of all {split} pixel values are exactly 0 and "
               f"{counts[:, 255].sum() / counts.sum():.1%} are exactly 255.")

elif section == "Normalisation":
    st.header(f"{split.capitalize()} image #{index} on three scales")
    stats = loaders.train_pixel_stats(key, dataset)
    explorer_views.normalisation_view(image, stats, dataset.display_name)

else:
    st.header(f"Augmenting {split} image #{index}: {plain(dataset.class_names[label])}")
    explorer_views.augmentation_view(np.asarray(image))
