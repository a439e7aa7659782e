"""What a page asks of the models: one picture -> every model's answer, noise, latent walks and maps, samples,
inpainting.

Plain functions and classes with no Gradio, so the UI only wires components to them and the tests call them
directly. Pictures go in and out as float tensors (B, 1, 28, 28) in [0, 1] unless a name says otherwise. A model is
chosen and asked by what it can do (``model.can("encodes")``, the roles of cache.py), never by its family's name.

    inputs.py       what a user sends, checked; the test set and its examples
    cache.py        the loaded checkpoints (ModelCache) and the roles the tabs give them
    reconstruct.py  one model's answer to a picture: reconstruction, nats, the classifier's reading, denoising
    drawing.py      one drawing -> every model's answer (the Draw tab and its live channel)
    latent.py       decoding codes: sliders, the 2-D manifold, walks, tours, samples, exported strips
    maps.py         the test set's codes on a plane (LatentMap, MapStore)
    inpaint.py      filling hidden pixels, the preset holes and their score
"""
from ..images import to_uint8
from .cache import ROLES, Listed, ModelCache
from .drawing import DRAWING_ROLES, Drawing, DrawingAnswer, answer_drawing, answer_drawings, read_pictures
from .inpaint import MASKS, hidden_psnr, inpaint, inpaint_batch, preset_mask
from .inputs import (ExploreError, as_batch, check_label, examples, finite, inference, mean_image,
                     preprocess_picture, seeded_generator, test_set)
from .latent import (MAX_SAMPLES, MAX_STEPS, check_latent, class_grid, decode_image, decode_images, gan_tour,
                     interpolate, manifold, manifold_axis, prior_samples, slerp, start_latent, strip_gif, strip_png)
from .maps import LatentMap, MapStore
from .reconstruct import (Denoised, Reconstruction, best_class, classify, classify_many, denoise, exact_nats,
                          make_noisy, reconstruct, reconstruct_images)

__all__ = [
    "ROLES", "Listed", "ModelCache", "DRAWING_ROLES", "Drawing", "DrawingAnswer", "answer_drawing",
    "answer_drawings", "read_pictures", "MASKS", "hidden_psnr", "inpaint", "inpaint_batch", "preset_mask",
    "ExploreError", "as_batch", "check_label", "examples", "finite", "inference", "mean_image", "preprocess_picture",
    "seeded_generator", "test_set", "MAX_SAMPLES", "MAX_STEPS", "check_latent", "class_grid", "decode_image",
    "decode_images", "gan_tour", "interpolate", "manifold", "manifold_axis", "prior_samples", "slerp", "start_latent",
    "strip_gif", "strip_png", "LatentMap", "MapStore", "Denoised", "Reconstruction", "best_class", "classify",
    "classify_many", "denoise", "exact_nats", "make_noisy", "reconstruct", "reconstruct_images", "to_uint8",
]
