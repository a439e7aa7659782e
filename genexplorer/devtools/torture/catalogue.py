"""Bad inputs: the catalogue (each as data) and sending them to a running app; the files it uploads are built by
bad_files.py."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...canvas_payload import encode_payload
from ...models import MODELS, family as family_of_kind
from ...train_form import RUN_CONTROLS, start_arguments
from .bad_files import build_file, drawn_digit
from .app import App, ROOT, client, client_outcome, diff, quick_snapshot, raw_call, raw_get, snapshot


# ================================================================ bad inputs

@dataclass(frozen=True)
class File:
    """An argument that is a file to upload, built by FILES[name]."""
    name: str


@dataclass(frozen=True)
class BadInput:
    name: str
    endpoint: str                   # api_name without the slash, or "GET <path>" for a plain request
    args: tuple = ()
    expect: str = "error"           # "error": a clear message; "ok": a normal answer (the input is odd but fine)
    match: str | None = None        # a regex the message (or the answer's text) must contain
    raw: bool = False               # send as raw JSON (NaN, Infinity, missing arguments)
    setup: tuple | None = None      # (endpoint, args) sent first in the same session, e.g. an upload


NAN, INF = float("nan"), float("inf")
LIVE = "/genexplorer/live"
Z16 = (0.0,) * 16


def train_args(name="mnist-tort-bad", family="vae", **values) -> tuple:
    """The Train tab's /train_start arguments in its API's order from keywords (control names: run settings such as
    epochs, batch_size, zip_file and the family's options such as latent_dim); the defaults: a one-epoch VAE on the
    digits with a 2-number code. A family that does not exist (sent on purpose) gets a VAE's other controls."""
    known = family in MODELS
    if "latent_dim" in {info.name for info in family_of_kind(family if known else "vae").option_info()}:
        values.setdefault("latent_dim", 2)
    args = list(start_arguments(name=name, family=family if known else "vae", **values))
    args[RUN_CONTROLS.index("family")] = family
    return tuple(args)


UPLOAD_SETUP = ("upload", (File("digit.png"), "mnist"))
NOISE_SETUP = ("noise_upload", (File("digit.png"), "mnist"))

# The Diffusion tab (ui/diffusion.py): its settings are (model, steps, sampler) of the left and right sides.
WALK = ("mnist", "mnist-diffusion", 20, "ddim", "mnist-flow", 5, "euler", 4, 0, -1)
GUIDE = ("mnist", "b", "mnist-diffusion", "ddim", "mnist-flow", "euler", 2, 0, 10)
NOISE_BODY = {"dataset": "mnist", "picture": [0] * 784, "seed": 0, "models": [None, None], "t": 0.5}
DIFFUSION_SETUP = ("diffusion_source", ("test", 3, 0, "mnist", 0, None, None))
DIFFUSION = [
    BadInput("diffusion walk: 0 steps", "diffusion_walk", (*WALK[:2], 0, *WALK[3:]), match="minimum|steps"),
    BadInput("diffusion walk: 10,000 steps", "diffusion_walk", (*WALK[:2], 10_000, *WALK[3:]), match="maximum|steps"),
    BadInput("diffusion walk: NaN steps", "diffusion_walk", (*WALK[:2], NAN, *WALK[3:]), raw=True, match="."),
    BadInput("diffusion walk: sampler 'warp'", "diffusion_walk", (*WALK[:3], "warp", *WALK[4:]), match="choices|warp"),
    BadInput("diffusion walk: no checkpoint picked", "diffusion_walk", ("mnist", None, 20, None, None, 5, None, 4, 0, -1),
             match="Train tab"),
    BadInput("diffusion walk: checkpoint '../../etc'", "diffusion_walk", ("mnist", "../../etc", *WALK[2:]),
             match="not a valid"),
    BadInput("diffusion walk: a VAE", "diffusion_walk", ("mnist", "mnist-vae", *WALK[2:]), match="does not walk"),
    BadInput("diffusion walk: a pickle checkpoint", "diffusion_walk", ("mnist", "mnist-zpickle", *WALK[2:]),
             match="not a safetensors"),
    BadInput("diffusion walk: 0 pictures", "diffusion_walk", (*WALK[:7], 0, 0, -1), match="minimum|number of pictures"),
    BadInput("diffusion walk: seed -1", "diffusion_walk", (*WALK[:8], -1, -1), match="minimum|seed"),
    BadInput("diffusion walk: class 10", "diffusion_walk", (*WALK[:9], 10), match="choices|class"),
    BadInput("diffusion walk result: job '../../etc'", "diffusion_walk_result", ("../../etc",), match="not a drawing job"),
    BadInput("diffusion walk result: a job never started", "diffusion_walk_result", ("0" * 16,), match="expired"),
    BadInput("diffusion guidance: w NaN", "diffusion_guidance", (*GUIDE[:6], NAN, 0, 10), raw=True, match="."),
    BadInput("diffusion guidance: w 11", "diffusion_guidance", (*GUIDE[:6], 11, 0, 10), match="maximum|guidance"),
    BadInput("diffusion guidance: w -1", "diffusion_guidance", (*GUIDE[:6], -1, 0, 10), match="minimum|guidance"),
    BadInput("diffusion guidance: 0 steps", "diffusion_guidance", (*GUIDE[:8], 0), match="minimum|steps"),
    BadInput("diffusion guidance: side 'c'", "diffusion_guidance", ("mnist", "c", *GUIDE[2:]), match="choices|side"),
    BadInput("diffusion guidance: no flow checkpoint", "diffusion_guidance", (*GUIDE[:4], None, *GUIDE[5:]),
             match="no flow checkpoint"),
    BadInput("diffusion forward: before a picture", "diffusion_forward", (0.5, 0, None, None), match="pick a test image"),
    BadInput("diffusion forward: t 1.5", "diffusion_forward", (1.5, 0, None, None), match="maximum|noise level",
             setup=DIFFUSION_SETUP),
    BadInput("diffusion forward: t NaN", "diffusion_forward", (NAN, 0, None, None), raw=True, match=".",
             setup=DIFFUSION_SETUP),
    BadInput("diffusion forward: a GAN's path", "diffusion_forward", (0.5, 0, "mnist-gan", None), match="does not walk",
             setup=DIFFUSION_SETUP),
    BadInput("diffusion source: class 99", "diffusion_source", ("test", 99, 0, "mnist", 0, None, None),
             match="class|choices"),
    BadInput("diffusion source: my drawing before drawing", "diffusion_source", ("drawing", 0, 0, "mnist", 0, None, None),
             match="draw something"),
    BadInput("diffusion source: noise seed -1", "diffusion_source", ("test", 3, 0, "mnist", -1, None, None),
             match="minimum|seed"),
    BadInput("diffusion compare: 0 pictures", "diffusion_compare", ("mnist", 0, 0, *WALK[1:7]), match="minimum|pictures"),
    BadInput("diffusion compare: 10^9 pictures", "diffusion_compare", ("mnist", 1e9, 0, *WALK[1:7]),
             match="maximum|pictures"),
    BadInput("diffusion compare: Fashion, no walker picked", "diffusion_compare",
             ("fashion", 2, 0, None, 20, None, None, 5, None), expect="ok", match="no (diffusion|flow) model picked|Train tab"),
    BadInput("live noise: t 2", f"POST {LIVE}/noise", (json.dumps({**NOISE_BODY, "t": 2}),), match="noise level t"),
    BadInput("live noise: t NaN", f"POST {LIVE}/noise", (json.dumps(NOISE_BODY).replace("0.5}", "NaN}"),),
             match="noise level t"),
    BadInput("live noise: 10 grey levels", f"POST {LIVE}/noise", (json.dumps({**NOISE_BODY, "picture": [0] * 10}),),
             match="784 grey levels"),
    BadInput("live noise: grey level 10^9", f"POST {LIVE}/noise", (json.dumps({**NOISE_BODY, "picture": [10 ** 9] * 784}),),
             match="784 grey levels"),
    BadInput("live noise: checkpoint '../../etc'", f"POST {LIVE}/noise",
             (json.dumps({**NOISE_BODY, "models": ["../../etc", None]}),), match="not a valid"),
    BadInput("live walk: job '../../etc'", f"POST {LIVE}/walk", (json.dumps({"job": "../../etc"}),),
             match="not a drawing job"),
    BadInput("live walk: a job never started", f"POST {LIVE}/walk", (json.dumps({"job": "e" * 16}),), match="expired"),
]

CATALOGUE: list[BadInput] = [
    # ---- the drawing canvas (/draw carries the canvas as JSON text)
    BadInput("empty canvas", "draw", ("", "mnist", -1), expect="ok", match="Draw in the black box"),
    BadInput("black canvas (nothing drawn)", "draw", (encode_payload(np.zeros((112, 112))), "mnist", -1), expect="ok",
             match="Draw in the black box"),
    BadInput("full canvas (all ink)", "draw", (encode_payload(np.full((112, 112), 255)), "mnist", -1), expect="ok", match="blank"),
    BadInput("one-pixel scribble", "draw", (encode_payload(np.pad([[255]], ((50, 61), (50, 61)))), "fashion", -1), expect="ok"),
    BadInput("canvas: malformed JSON", "draw", ("{not json", "mnist", -1), match="malformed"),
    BadInput("canvas: JSON null", "draw", ("null", "mnist", -1), match="malformed"),
    BadInput("canvas: JSON list", "draw", ("[1, 2, 3]", "mnist", -1), match="malformed"),
    BadInput("canvas: size does not match data", "draw",
             (json.dumps({"w": 112, "h": 112, "data": "AAAA"}), "mnist", -1), match="wrong size"),
    BadInput("canvas: 10^9 x 10^9", "draw", (json.dumps({"w": 10 ** 9, "h": 10 ** 9, "data": ""}), "mnist", -1),
             match="wrong size"),
    BadInput("canvas: negative size", "draw", (json.dumps({"w": -112, "h": -112, "data": ""}), "mnist", -1),
             match="wrong size"),
    BadInput("canvas: NaN width", "draw", ('{"w": NaN, "h": 112, "data": ""}', "mnist", -1), match="malformed"),
    BadInput("canvas: not base64", "draw", (json.dumps({"w": 8, "h": 8, "data": "!!!!"}), "mnist", -1), match="malformed"),
    BadInput("canvas: 300 kB of data", "draw", ("x" * 300_000, "mnist", -1), match="too large"),
    BadInput("canvas: a number instead of text", "draw", (12345, "mnist", -1), match="malformed", raw=True),
    BadInput("unknown dataset '../../etc'", "draw", (encode_payload(drawn_digit()), "../../etc", -1), match="choices"),
    BadInput("CVAE class 99", "draw", (encode_payload(drawn_digit()), "mnist", 99), match="choices"),
    BadInput("missing arguments", "draw", (), match="input values|argument", raw=True),
    BadInput("example index -1", "draw_example", (-1, "mnist", -1), match="between"),
    BadInput("example index 10^12", "draw_example", (10 ** 12, "mnist", -1), match="between"),
    BadInput("example index Infinity", "draw_example", (INF, "mnist", -1), match="finite|number", raw=True),
    BadInput("example index NaN", "draw_example", (NAN, "mnist", -1), match="finite|number", raw=True),
    BadInput("example index as text", "draw_example", ("seven", "mnist", -1), match="number", raw=True),
    # ---- noise
    BadInput("noise level NaN", "noise", ("mnist", "gaussian", NAN, 0), match="level|finite|number", raw=True,
             setup=NOISE_SETUP),
    BadInput("noise level Infinity", "noise", ("mnist", "gaussian", INF, 0), match="maximum|finite", raw=True,
             setup=NOISE_SETUP),
    BadInput("noise level -1", "noise", ("mnist", "masking", -1, 0), match="minimum", setup=NOISE_SETUP),
    BadInput("noise level 1e300", "noise", ("mnist", "salt_pepper", 1e300, 0), match="maximum", setup=NOISE_SETUP),
    BadInput("noise seed 2^70", "noise", ("mnist", "gaussian", 0.3, 2 ** 70), match="seed", setup=NOISE_SETUP),
    BadInput("noise seed -5", "noise", ("mnist", "gaussian", 0.3, -5), match="minimum", setup=NOISE_SETUP),
    BadInput("noise kind 'boil'", "noise", ("mnist", "boil", 0.3, 0), match="choices", setup=NOISE_SETUP),
    # ---- latent sliders
    BadInput("slider NaN", "slide", ("mnist-vae", None, *([NAN] * 16)), match="latent value", raw=True),
    BadInput("slider Infinity", "slide", ("mnist-vae", None, *([INF] * 16)), match="maximum|finite", raw=True),
    BadInput("slider -Infinity", "slide", ("mnist-vae", None, *([-INF] * 16)), match="minimum|finite", raw=True),
    BadInput("slider 1e30", "slide", ("mnist-vae", None, *([1e30] * 16)), match="maximum"),
    BadInput("slider label Infinity", "slide", ("mnist-cvae", INF, *Z16), match="choices|finite|class", raw=True),
    BadInput("checkpoint '../../etc/passwd'", "slide", ("../../etc/passwd", None, *Z16), match="choices|not a valid"),
    BadInput("checkpoint '/etc' (absolute)", "slide", ("/etc", None, *Z16), match="choices|not a valid"),
    BadInput("checkpoint '../outside' (a real folder)", "slide", ("../outside", None, *Z16), match="choices|not a valid"),
    BadInput("checkpoint whose weights do not match its config", "slide", ("mnist-zmismatch", None, *Z16),
             match="do not match"),
    BadInput("checkpoint whose weights are a pickle carrying code", "slide", ("mnist-zpickle", None, *Z16),
             match="not a safetensors"),
    BadInput("checkpoint whose config is not JSON", "slide", ("mnist-zbadjson", None, *Z16), match="choices|JSON"),
    BadInput("latent walk: unknown start", "slider_start", ("mnist-vae", "sideways", 0, None), match="choices"),
    BadInput("latent walk: seed Infinity", "slider_start", ("mnist-vae", "random", INF, None), match="finite|number",
             raw=True),
    BadInput("latent walk from a drawing with a GAN", "slider_start", ("mnist-gan", "drawing", 0, None),
             match="draw something|no encoder"),
    BadInput("randomise the rest: seed NaN", "slider_rest", ("mnist-gan", NAN, None, *Z16), match="finite|number",
             raw=True),
    # ---- maps
    BadInput("map of a GAN", "map", ("mnist-gan", "pca"), match="choices|no encoder"),
    BadInput("map method 'tsne'", "map", ("mnist-vae", "tsne"), match="choices"),
    BadInput("map click: garbage", "map_click", ("garbage", "mnist", "mnist-vae"), match="could not be read"),
    BadInput("map click: NaN coordinates", "map_click",
             ('{"plot": "ge-map-vae2d", "x": NaN, "y": 1e308}', "mnist", "mnist-vae"), match="could not be read|finite"),
    BadInput("map click: unknown plot", "map_click", ('{"plot": "../../x", "x": 0, "y": 0}', "mnist", "mnist-vae"),
             match="unknown map"),
    BadInput("map click: test index 10^9", "map_click",
             ('{"plot": "ge-map-any", "x": 0, "y": 0, "index": 1000000000}', "mnist", "mnist-vae"), match="not in the test set"),
    # ---- interpolation and generation
    BadInput("interpolate: 10^6 steps", "interpolate", ("1", 0, "7", 0, 10 ** 6, "mnist"), match="maximum"),
    BadInput("interpolate: NaN steps", "interpolate", ("1", 0, "7", 0, NAN, "mnist"), match="steps", raw=True),
    BadInput("interpolate: index NaN", "interpolate", ("1", NAN, "7", 0, 5, "mnist"), match="index|number|finite", raw=True),
    BadInput("interpolate: from a drawing never drawn", "interpolate", ("drawing", 0, "7", 0, 5, "mnist"),
             match="draw something"),
    BadInput("export GIF: 0 steps", "interpolate_gif", ("1", 0, "7", 0, 0, "mnist"), match="minimum"),
    BadInput("GAN tour: 10^9 stops", "gan_tour", ("mnist", 0, 10 ** 9, 8), match="maximum"),
    BadInput("GAN tour: seed -1", "gan_tour", ("mnist", -1, 4, 8), match="minimum"),
    BadInput("VAE samples: 10^7", "generate_vae", ("mnist", 10 ** 7, 0), match="maximum"),
    BadInput("VAE samples: NaN", "generate_vae", ("mnist", NAN, 0), match="number of samples|finite", raw=True),
    BadInput("VAE samples: seed Infinity", "generate_vae", ("mnist", 10, INF), match="finite|number", raw=True),
    BadInput("VAE samples: seed NaN", "generate_vae", ("mnist", 10, NAN), match="finite|number", raw=True),
    BadInput("GAN samples: seed -5", "generate_gan", ("mnist", 10, -5), match="minimum"),
    BadInput("CVAE grid: 10^9 styles", "generate_cvae", ("mnist", 10 ** 9, 0), match="maximum"),
    BadInput("cGAN grid: 10^9 styles", "generate_cgan", ("mnist", 10 ** 9, 0), match="maximum"),
    BadInput("cGAN grid: seed NaN", "generate_cgan", ("mnist", 4, NAN), match="finite|number|seed", raw=True),
    BadInput("no such endpoint", "nothing_here", (), match="", raw=True),
    # ---- uploads (/upload and /noise_upload)
    BadInput("upload: empty file", "upload", (File("empty.png"), "mnist"), match="empty"),
    BadInput("upload: 1x1 picture", "upload", (File("one.png"), "mnist"), match="blank"),
    BadInput("upload: 9000x9000 picture", "upload", (File("huge.png"), "mnist"), match="megapixels"),
    BadInput("upload: header claims 100000x100000", "upload", (File("liar.png"), "mnist"), match="megapixels|too large"),
    BadInput("upload: 16-bit greyscale", "upload", (File("sixteen.png"), "mnist"), expect="ok"),
    BadInput("upload: CMYK JPEG", "upload", (File("cmyk.jpg"), "fashion"), expect="ok"),
    BadInput("upload: palette with transparency", "upload", (File("palette.png"), "mnist"), expect="ok"),
    BadInput("upload: animated GIF", "upload", (File("animated.gif"), "mnist"), expect="ok"),
    BadInput("upload: 1-bit TIFF", "noise_upload", (File("bilevel.tif"), "mnist"), expect="ok"),
    BadInput("upload: blank white page", "upload", (File("white.png"), "mnist"), match="blank"),
    BadInput("upload: truncated PNG", "upload", (File("truncated.png"), "mnist"), match="damaged|truncated"),
    BadInput("upload: PDF renamed .png", "upload", (File("homework.png"), "mnist"), match="not a picture"),
    BadInput("upload: executable renamed .png", "upload", (File("tool.png"), "mnist"), match="not a picture"),
    BadInput("upload: SVG", "noise_upload", (File("drawing.svg"), "mnist"), match="not a picture"),
    BadInput("upload: 25 MB file", "upload", (File("big.png"), "mnist"), match="large|exceeds|413|limit"),
    BadInput("upload: 25 MB file sent past the client's own check", "upload", (File("big.png"), "mnist"),
             match="413", raw=True),
    BadInput("inpaint: unknown mask", "inpaint", (None, "everything", "mnist"), match="choices", setup=UPLOAD_SETUP),
    BadInput("inpaint: nothing painted", "inpaint", (None, "painted", "mnist"), match="paint", setup=UPLOAD_SETUP),
    # ---- training from the page
    BadInput("train: name '../../etc'", "train_start", train_args(name="../../etc"), match="name"),
    BadInput("train: absolute name", "train_start", train_args(name="/tmp/evil"), match="name"),
    BadInput("train: over a shipped checkpoint", "train_start", train_args(name="mnist-vae"), match="exists"),
    BadInput("train: data folder '/etc'", "train_start", train_args(dataset="/etc"), match="choices"),
    BadInput("train: epochs NaN", "train_start", train_args(epochs=NAN), match="finite|whole number", raw=True),
    BadInput("train: epochs Infinity", "train_start", train_args(epochs=INF), match="maximum|finite", raw=True),
    BadInput("train: epochs -3", "train_start", train_args(epochs=-3), match="minimum"),
    BadInput("train: epochs 10^9", "train_start", train_args(epochs=10 ** 9), match="maximum"),
    BadInput("train: batch size 0", "train_start", train_args(batch_size=0), match="minimum"),
    BadInput("train: batch size 10^9", "train_start", train_args(batch_size=10 ** 9), match="maximum"),
    BadInput("train: 1,000 processes", "train_start", train_args(processes=1000), match="maximum|processes"),
    BadInput("train: 0 processes", "train_start", train_args(processes=0), match="minimum|processes"),
    BadInput("train: latent size 0", "train_start", train_args(latent_dim=0), match="minimum|must be"),
    BadInput("train: latent size 10^6", "train_start", train_args(latent_dim=10 ** 6), match="maximum|must be"),
    BadInput("train: architecture 'transformer'", "train_start", train_args(family="ae", architecture="transformer"),
             match="choices|architecture|must be"),
    BadInput("train: L1 weight -1", "train_start", train_args(family="ae", l1=-1), match="minimum|L1|must be"),
    BadInput("train: L1 weight NaN", "train_start", train_args(family="ae", l1=NAN), match="L1|finite|number|must be", raw=True),
    BadInput("train: dense hidden width -5", "train_start", train_args(family="ae", architecture="dense", hidden=-5),
             match="minimum|hidden|must be"),
    BadInput("train: code 'softmax'", "train_start", train_args(family="ae", code_activation="softmax"), match="choices|code|must be"),
    BadInput("train: context bottleneck 'transformer'", "train_start", train_args(family="context", bottleneck="transformer"),
             match="choices|bottleneck|must be"),
    BadInput("train: augment '../../etc'", "train_start", train_args(augment="../../etc"), match="choices|augment"),
    BadInput("train: learning-rate schedule 'warp'", "train_start", train_args(lr_schedule="warp"), match="choices|schedule"),
    BadInput("train: GAN EMA decay 1.5", "train_start", train_args(family="gan", ema=1.5), match="maximum|EMA"),
    BadInput("train: GAN EMA decay -0.5", "train_start", train_args(family="gan", ema=-0.5), match="minimum|EMA"),
    BadInput("train: GAN EMA decay NaN", "train_start", train_args(family="gan", ema=NAN), match="EMA|finite|number", raw=True),
    BadInput("train: 9 residual blocks", "train_start", train_args(blocks=9), match="maximum|blocks|must be"),
    BadInput("train: -1 residual blocks", "train_start", train_args(blocks=-1), match="minimum|blocks|must be"),
    BadInput("train: residual blocks NaN", "train_start", train_args(blocks=NAN), match="whole number|finite|must be", raw=True),
    BadInput("train: font digits for Fashion", "train_start", train_args(dataset="fashion", font_digits=True),
             match="font digits|--font-digits|Fashion-MNIST"),
    BadInput("train: context adversarial weight 5", "train_start", train_args(family="context", adversarial_weight=5),
             match="adversarial weight|must be"),
    BadInput("train: pix2pix adversarial weight -1", "train_start", train_args(family="pix2pix", adversarial_weight=-1),
             match="minimum|adversarial|must be"),
    BadInput("sketch: not a drawing", "sketch", ("{oops", "fashion"), match="malformed|drawing"),
    BadInput("sketch: a one-pixel scribble", "sketch", (encode_payload(np.pad([[255]], ((50, 61), (50, 61)))), "fashion"),
             match="too small|faint|blank"),
    BadInput("sketch item: class 99", "sketch_item", (99, 0, "fashion"), match="choices|class"),
    BadInput("sketch item: which 10^9", "sketch_item", (0, 10 ** 9, "fashion"), match="maximum|which"),
    BadInput("live sketch: not JSON", f"POST {LIVE}/sketch", ("{not json",), match="not JSON"),
    BadInput("live sketch: payload 10^6 chars", f"POST {LIVE}/sketch",
             (json.dumps({"payload": "x" * 290_000, "dataset": "fashion"}),), match="too large|malformed"),
    BadInput("train: latent size 10^6", "train_start", train_args(latent_dim=10 ** 6), match="maximum|must be"),
    BadInput("train: learning rate NaN", "train_start", train_args(lr=NAN), match="finite|learning rate", raw=True),
    BadInput("train: learning rate -1", "train_start", train_args(lr=-1), match="minimum"),
    BadInput("train: beta Infinity", "train_start", train_args(beta=INF), match="maximum|finite", raw=True),
    BadInput("train: noise level NaN", "train_start", train_args(family="dae", noise_level=NAN), match="noise level|finite",
             raw=True),
    BadInput("train: family 'rm -rf'", "train_start", train_args(family="rm -rf"), match="choices"),
    BadInput("train: device cuda:7", "train_start", train_args(device="cuda:7"), match="choices"),
    BadInput("train: .zip that is not a zip", "train_start", train_args(dataset="zip", zip_file=File("fake.zip")),
             match="not a readable"),
    BadInput("train: zip bomb", "train_start", train_args(dataset="zip", zip_file=File("bomb.zip")), match="MB|bomb"),
    BadInput("train: zip with ../ paths", "train_start", train_args(dataset="zip", zip_file=File("slip.zip")),
             match="outside"),
    BadInput("train: zip with a link out", "train_start", train_args(dataset="zip", zip_file=File("link.zip")),
             match="outside"),
    BadInput("train: status of run '../../etc'", "train_status", ("../../etc",), expect="ok", match="no run"),
    BadInput("train: cancel run '../../etc'", "train_cancel", ("../../etc",), match="choices|no run"),
    # ---- the live preview routes (ui/live.py: plain JSON posts, no Gradio checks in front)
    BadInput("live slide: not JSON", f"POST {LIVE}/slide", ("{not json",), match="not JSON"),
    BadInput("live slide: a JSON list", f"POST {LIVE}/slide", ("[1, 2]",), match="JSON object"),
    BadInput("live slide: 400 kB body", f"POST {LIVE}/slide", ("x" * 400_000,), match="too large"),
    BadInput("live slide: checkpoint '../../etc'", f"POST {LIVE}/slide",
             (json.dumps({"model": "../../etc", "label": None, "latent": [], "values": [0.0] * 16}),), match="not a valid"),
    BadInput("live slide: pickle checkpoint", f"POST {LIVE}/slide",
             (json.dumps({"model": "mnist-zpickle", "label": None, "latent": [], "values": [0.0] * 16}),),
             match="not a safetensors"),
    BadInput("live slide: NaN values", f"POST {LIVE}/slide",
             ('{"model": "mnist-vae", "label": null, "latent": [], "values": [' + ", ".join(["NaN"] * 16) + "]}",),
             match="latent value"),
    BadInput("live slide: text values", f"POST {LIVE}/slide",
             (json.dumps({"model": "mnist-vae", "label": None, "latent": [], "values": ["x"] * 16}),), match="latent value"),
    BadInput("live slide: class 1e308", f"POST {LIVE}/slide",
             (json.dumps({"model": "mnist-cvae", "label": 1e308, "latent": [], "values": [0.0] * 16}),), match="class"),
    BadInput("live slide: 17 values", f"POST {LIVE}/slide",
             (json.dumps({"model": "mnist-vae", "label": None, "latent": [], "values": [0.0] * 17}),), match="lists"),
    BadInput("live draw: dataset '../../etc'", f"POST {LIVE}/draw",
             (json.dumps({"payload": encode_payload(drawn_digit()), "dataset": "../../etc"}),), match="unknown dataset"),
    BadInput("live draw: canvas 10^9 x 10^9", f"POST {LIVE}/draw",
             (json.dumps({"payload": json.dumps({"w": 10 ** 9, "h": 10 ** 9, "data": ""}), "dataset": "mnist"}),),
             match="wrong size"),
    BadInput("live draw: canvas as an object", f"POST {LIVE}/draw",
             (json.dumps({"payload": {"w": 8}, "dataset": "mnist"}),), match="malformed"),
    BadInput("live draw: CVAE class 'seven'", f"POST {LIVE}/draw",
             (json.dumps({"payload": encode_payload(drawn_digit()), "dataset": "mnist", "cvae_class": "seven"}),),
             match="class number"),
    # every live route, every malformed body shape: a 4xx with a message, never a 500
    *[BadInput(f"live {route}: {what}", f"POST {LIVE}/{route}", (body,), match=match)
      for route in ("slide", "draw", "sketch", "pixels", "lab", "noise", "walk")
      for what, body, match in (("empty body", "", "not JSON"), ("JSON null", "null", "JSON object"),
                                ("a number", "42", "JSON object"), ("a string", '"hello"', "JSON object"),
                                ("nested 100,000 deep", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
                                ("an empty object", "{}", "lacks"))],
    *[BadInput(f"live slide: a {role} cannot decode", f"POST {LIVE}/slide",
               (json.dumps({"model": f"mnist-{role}", "label": None, "latent": [], "values": [0.0] * 16}),),
               match="decode|code")
      for role in ("pixelcnn", "classifier", "pix2pix", "context")],
    BadInput("live slide: an unknown field", f"POST {LIVE}/slide",
             (json.dumps({"modle": "mnist-vae", "label": None, "latent": [], "values": [0.0] * 16}),),
             match="lacks model|unknown field"),
    BadInput("live lab: toy '../../etc'", f"POST {LIVE}/lab", (json.dumps({"toy": "../../etc"}),), match="toy"),
    BadInput("live pixels: job '../../etc/passwd'", f"POST {LIVE}/pixels", (json.dumps({"job": "../../etc/passwd"}),),
             match="drawing job"),
    # ---- PixelCNN: sampling on Generate, completion on Complete, and the live pixels route
    BadInput("pixelcnn: 0 pictures", "pixelcnn_sample", ("mnist", 0, 0, "live"), match="number of pictures|minimum"),
    BadInput("pixelcnn: 10^9 pictures", "pixelcnn_sample", ("mnist", 1e9, 0, "live"), match="number of pictures|maximum"),
    BadInput("pixelcnn: NaN pictures", "pixelcnn_sample", ("mnist", NAN, 0, "live"), raw=True, match="."),
    BadInput("pixelcnn: seed -1", "pixelcnn_sample", ("mnist", 4, -1, "live"), match="seed|minimum"),
    BadInput("pixelcnn: pace 'warp'", "pixelcnn_sample", ("mnist", 4, 0, "warp"), match="pace|choices"),
    BadInput("pixelcnn: dataset '../../etc'", "pixelcnn_sample", ("../../etc", 4, 0, "live"), match="dataset|choices"),
    BadInput("pixelcnn result: job '../../etc'", "pixelcnn_result", ("../../etc", "mnist"), match="not a drawing job"),
    BadInput("pixelcnn result: a job never started", "pixelcnn_result", ("0" * 16, "mnist"), match="expired"),
    BadInput("complete: no picture chosen", "pixelcnn_complete", (None, "bottom", 4, 0, "live", "mnist"),
             match="choose a picture"),
    BadInput("complete: 'what I paint' with nothing painted", "pixelcnn_complete", (None, "painted", 4, 0, "live", "mnist"),
             match="paint", setup=("complete_source", ("test", 0, 0, "mnist"))),
    BadInput("complete: 0 completions", "pixelcnn_complete", (None, "bottom", 0, 0, "live", "mnist"),
             match="number of pictures|minimum", setup=("complete_source", ("test", 0, 0, "mnist"))),
    BadInput("complete: mask 'everything'", "pixelcnn_complete", (None, "everything", 4, 0, "live", "mnist"),
             match="mask|choices", setup=("complete_source", ("test", 0, 0, "mnist"))),
    BadInput("complete source: class 99", "complete_source", ("test", 99, 0, "mnist"), match="class|choices"),
    BadInput("complete source: which one 10^9", "complete_source", ("test", 0, 1e9, "mnist"), match="which|maximum"),
    BadInput("complete source: my drawing before drawing", "complete_source", ("drawing", 0, 0, "mnist"),
             match="draw something"),
    BadInput("live pixels: not JSON", f"POST {LIVE}/pixels", ("{not json",), match="not JSON"),
    BadInput("live pixels: job '../../etc'", f"POST {LIVE}/pixels", (json.dumps({"job": "../../etc"}),),
             match="not a drawing job"),
    BadInput("live pixels: a job never started", f"POST {LIVE}/pixels", (json.dumps({"job": "f" * 16}),), match="expired"),
    BadInput("live pixels: job as a number", f"POST {LIVE}/pixels", (json.dumps({"job": 12}),), match="not a drawing job"),
    # ---- Diffusion: the forward process, the walks, the guidance grid, every generator, and their live routes
    *DIFFUSION,
    # ---- AE zoo: source, class, which example, shift, noise seed
    BadInput("zoo: my drawing before drawing", "zoo", ("drawing", "mnist", 3, 0, 5, 0, 0), match="draw something"),
    BadInput("zoo: shift 10^9", "zoo", ("example", "mnist", 3, 0, 10 ** 9, 0, 0), match="maximum|shift"),
    BadInput("zoo: shift NaN", "zoo", ("example", "mnist", 3, 0, NAN, 0, 0), raw=True, match="."),
    BadInput("zoo: example class 99", "zoo", ("example", "mnist", 99, 0, 5, 0, 0), match="choices|class"),
    BadInput("zoo: noise seed -1", "zoo", ("example", "mnist", 3, 0, 5, 0, -1), match="minimum|seed"),
    BadInput("zoo: source 'etc/passwd'", "zoo", ("etc/passwd", "mnist", 3, 0, 5, 0, 0), match="choices"),
    # ---- Toy lab: the GAN's controls' Reset, the lesson menu, and the live lab route (with the diffusion's and
    # the flow's sampling steps)
    BadInput("lab: data 'mnist'", "lab_reset", ("mnist", "minimax", 1, 1e-3, 1e-3, 0.01, 10, 0, ""), match="choices|unknown toy data"),
    BadInput("lab: loss 'hinge'", "lab_reset", ("gaussian_1d", "hinge", 1, 1e-3, 1e-3, 0.01, 10, 0, ""), match="choices|unknown loss"),
    BadInput("lab: k = 0", "lab_reset", ("gaussian_1d", "minimax", 0, 1e-3, 1e-3, 0.01, 10, 0, ""), match="minimum|k "),
    BadInput("lab: k NaN", "lab_reset", ("gaussian_1d", "minimax", NAN, 1e-3, 1e-3, 0.01, 10, 0, ""), raw=True, match="."),
    BadInput("lab: learning rate 10^9", "lab_reset", ("gaussian_1d", "minimax", 1, 1e9, 1e-3, 0.01, 10, 0, ""),
             match="maximum|learning rate"),
    BadInput("lab: learning rate Infinity", "lab_reset", ("gaussian_1d", "minimax", 1, INF, 1e-3, 0.01, 10, 0, ""),
             raw=True, match="."),
    BadInput("lab: clip 0", "lab_reset", ("gaussian_1d", "wgan_clip", 5, 1e-3, 1e-3, 0, 10, 0, ""), match="minimum|clip"),
    BadInput("lab: own data, nothing painted", "lab_reset", ("drawn_2d", "minimax", 1, 1e-3, 1e-3, 0.01, 10, 0, ""),
             expect="ok", match="Paint some points"),
    BadInput("lab: own data, points not JSON", "lab_reset", ("drawn_2d", "minimax", 1, 1e-3, 1e-3, 0.01, 10, 0, "{oops"),
             match="not readable"),
    BadInput("lab: own data, 20,000 points", "lab_reset",
             ("drawn_2d", "minimax", 1, 1e-3, 1e-3, 0.01, 10, 0, json.dumps([[0.1, 0.2]] * 20_000)), match="at most"),
    BadInput("lab: own data, a point at 1e300", "lab_reset",
             ("drawn_2d", "minimax", 1, 1e-3, 1e-3, 0.01, 10, 0, "[[1e300, 0], [0, 0]]"), match="within"),
    BadInput("lab: lesson 'nope'", "lab_lesson", ("nope",), match="choices|unknown lesson"),
    BadInput("live lab: not JSON", f"POST {LIVE}/lab", ("{not json",), match="not JSON"),
    BadInput("live lab: toy '../../etc'", f"POST {LIVE}/lab", (json.dumps({"toy": "../../etc", "action": "play"}),),
             match="not a GAN lab toy"),
    BadInput("live lab: a toy never made", f"POST {LIVE}/lab", (json.dumps({"toy": "a" * 16, "action": "play"}),),
             match="expired"),
    BadInput("live lab: speed 10^9", f"POST {LIVE}/lab", (json.dumps({"toy": "a" * 16, "action": "play", "speed": 1e9}),),
             match="speed"),
    BadInput("live lab: action 'rm -rf'", f"POST {LIVE}/lab", (json.dumps({"toy": "a" * 16, "action": "rm -rf"}),),
             match="unknown action"),
    BadInput("live lab: 0 sampling steps", f"POST {LIVE}/lab", (json.dumps({"toy": "a" * 16, "action": "look", "steps": 0}),),
             match="sampling steps"),
    BadInput("live lab: 10^9 sampling steps", f"POST {LIVE}/lab",
             (json.dumps({"toy": "a" * 16, "action": "play", "steps": 1e9}),), match="sampling steps"),
    BadInput("live lab: NaN sampling steps", f"POST {LIVE}/lab", ('{"toy": "' + "a" * 16 + '", "steps": NaN}',),
             match="sampling steps"),
    # ---- plain requests for files
    BadInput("GET /etc/passwd through the file route", "GET /gradio_api/file=/etc/passwd"),
    BadInput("GET a file outside through ../", "GET /gradio_api/file=../../../../etc/passwd"),
    BadInput("GET the app's source through the file route", "GET /gradio_api/file=app.py"),
    BadInput("GET a checkpoint's weights through the file route",
             "GET /gradio_api/file=checkpoints/mnist-vae/model.safetensors"),
]


# ---------------------------------------------------------------- the files


# ---------------------------------------------------------------- broken checkpoints


# ---------------------------------------------------------------- the runner

@dataclass
class Outcome:
    name: str
    endpoint: str
    outcome: str            # "clear error", "handled", "crash", "wrong"
    detail: str
    seconds: float


def run_bad_inputs(app: App, catalogue: list[BadInput] = CATALOGUE, *, files_dir: Path | None = None,
                   watch: tuple[Path, ...] = (), marker: Path | None = None) -> list[Outcome]:
    """Send every bad input to the running app; after each, check the server still serves,
    printed no crash, and changed nothing in ``watch`` (and the pickle ``marker`` never appears)."""
    files_dir = Path(files_dir or app.workdir / "files")
    # The app's own checkpoints (a copy), the shipped data, and whatever the caller adds (a
    # folder outside everything, which path tricks would reach first).
    watch = (app.checkpoints_dir, ROOT / "assets", *watch)
    full_before = snapshot(*watch)
    shared = client(app.url)
    results = []
    for item in catalogue:
        before = quick_snapshot(*watch)
        log_start = app.log_size()
        started = time.perf_counter()
        outcome, detail = _send(app, item, files_dir, shared)
        seconds = time.perf_counter() - started
        problems = []
        if not app.serves():
            problems.append("the server stopped serving")
        crashes = app.crashes_in_log(log_start)
        if crashes:
            problems.append("server log: " + "; ".join(crashes))
        changed = diff(before, quick_snapshot(*watch))
        if changed:
            problems.append("disk changed: " + ", ".join(changed[:3]))
        if marker is not None and marker.exists():
            problems.append("the pickle's code ran")
        if problems:
            outcome, detail = "crash", "; ".join(problems) + f" ({detail})"
        elif outcome == "error":
            if item.expect != "error":
                outcome, detail = "wrong", f"expected a normal answer, got the error {detail!r}"
            elif item.match and not re.search(item.match, str(detail), re.I):
                outcome, detail = "wrong", f"message {detail!r} does not say /{item.match}/"
            else:
                outcome = "clear error"
        elif outcome == "ok":
            text = json.dumps(detail, default=str)
            if item.expect == "error":
                outcome, detail = "wrong", f"expected a clear error, got an answer: {text[:200]}"
            elif item.match and not re.search(item.match, text, re.I):
                outcome, detail = "wrong", f"answer does not say /{item.match}/: {text[:200]}"
            else:
                outcome, detail = "handled", text[:160]
        results.append(Outcome(item.name, item.endpoint, outcome, str(detail)[:400], seconds))
    changed = diff(full_before, snapshot(*watch))
    if changed:
        results.append(Outcome("disk unchanged after all bad inputs", "-", "crash", ", ".join(changed[:5]), 0.0))
    return results


def _send(app: App, item: BadInput, files_dir: Path, shared) -> tuple[str, object]:
    from gradio_client import handle_file

    if item.endpoint.startswith("POST "):
        import httpx

        try:
            response = httpx.post(app.url + item.endpoint[5:], content=item.args[0], timeout=60,
                                  headers={"Content-Type": "application/json"})
        except httpx.HTTPError as exc:
            return "crash", f"no answer: {exc!r}"
        if response.status_code >= 500:
            return "crash", f"HTTP {response.status_code}: {response.text[:200]}"
        if response.status_code == 200:
            return "ok", f"HTTP 200, {len(response.content)} bytes"
        try:
            message = response.json().get("error") or response.json().get("detail")
        except ValueError:
            message = None
        return ("error", f"HTTP {response.status_code}: {message}") if message else ("crash", f"HTTP {response.status_code} without a message")
    if item.endpoint.startswith("GET "):
        status, body = raw_get(app.url, item.endpoint[4:])
        if status == 0 or status >= 500:
            return "crash", f"HTTP {status}"
        if status == 200:
            return "ok", f"HTTP 200, {len(body)} bytes served"
        return "error", f"HTTP {status}"

    def resolve(value, *, raw: bool):
        if isinstance(value, File):
            path = build_file(files_dir, value.name)
            return _upload(app.url, path) if raw else handle_file(str(path))
        return value

    session = client(app.url) if item.setup else shared
    if item.setup:
        endpoint, args = item.setup
        outcome, detail = client_outcome(lambda: session.predict(*[resolve(a, raw=False) for a in args],
                                                                 api_name=f"/{endpoint}"))
        if outcome != "ok":
            return "crash", f"the setup call {endpoint} failed: {detail}"
    if item.raw:
        import httpx

        try:
            data = [resolve(a, raw=True) for a in item.args]
        except httpx.HTTPStatusError as exc:   # the upload itself was refused
            code = exc.response.status_code
            return ("error" if code < 500 else "crash"), f"upload refused: HTTP {code}: {exc.response.text[:120]}"
        outcome, detail = raw_call(app.url, item.endpoint, data, session_hash=session.session_hash)
        if item.endpoint == "nothing_here" and outcome == "http":
            return ("error" if detail < 500 else "crash"), f"HTTP {detail}"
        if outcome == "error" and not detail:
            return "crash", "error without a message"
        if outcome in ("http", "down"):
            return "crash", f"{outcome}: {detail}"
        return outcome, detail
    return client_outcome(lambda: session.predict(*[resolve(a, raw=False) for a in item.args],
                                                  api_name=f"/{item.endpoint}"))


def _upload(url: str, path: Path) -> dict:
    import httpx

    with open(path, "rb") as f:
        response = httpx.post(f"{url}/gradio_api/upload", files={"files": (path.name, f)}, timeout=60)
    response.raise_for_status()
    return {"path": response.json()[0], "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def summarise_bad_inputs(results: list[Outcome]) -> dict:
    counts = {kind: sum(r.outcome == kind for r in results) for kind in ("clear error", "handled", "wrong", "crash")}
    return {"tried": len(results), **counts}


