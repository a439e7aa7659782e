"""How well the image-to-image models do their jobs on the held-out test sets, the tables of
``python -m genexplorer.bench --only image-to-image``:

- inpainting: every filler the Upload tab shows (the context encoder, its L2-only twin, the VAE's code
  optimisation, the AE's projection, one PixelCNN completion, the mean image) on every hole kind (the
  centred 14x14 square of issue 12's target, the bottom half, random blocks, brush strokes), scored by the
  PSNR of the hidden pixels and by how often the shipped classifier reads the filled picture right;
- sketch to picture: pix2pix and its L1-only twin on the edges of test pictures, read by the classifier, and
  the Frechet distance of their pictures (classifier features) beside the test pictures' own and the GAN's.

Plain functions returning ``quality.Table``s; no Gradio. Pictures are float (B, 1, 28, 28) in [0, 1].
"""
from __future__ import annotations

import torch

from .. import explore
from ..edges import edges, is_blank
from ..metrics import frechet_distance, masked_psnr
from ..models.context import random_holes
from .quality import Split, Table, batched, load_or_note, load_split, percent, readable_test_sets, samples_of

HOLES = (("centre", "centred 14x14 hole"), ("bottom", "bottom half missing"),
         ("blocks", "1-3 random blocks"), ("strokes", "1-3 brush strokes"))
# Left to right as in the Upload tab's inpainting row.
FILLERS = (("context", "context encoder (L2 + adversarial)"), ("context-l2", "context encoder, L2 only"),
           ("vae", "VAE (code optimisation)"), ("ae", "AE (projection)"), ("pixelcnn", "PixelCNN (one completion)"))


def hole_masks(kind: str, count: int, *, seed: int = 0) -> torch.Tensor:
    """bool (count, 1, 28, 28), True = hidden: a preset of the Upload tab, or seeded random holes of one kind."""
    if kind in explore.MASKS:
        return explore.preset_mask(kind).expand(count, 1, 28, 28)
    return random_holes(count, generator=torch.Generator().manual_seed(seed), hole=kind)


def rim_reader(train: Split, hidden: torch.Tensor, *, epochs: int, seed: int = 0, channels: int = 64):
    """A classifier of the shipped reader's architecture (twice its width by default, on a cosine learning rate: the
    stronger the reader, the better the estimate) trained on ``train`` with ``hidden`` blanked:
    an estimate of how much of the class the rest of the picture tells. A filled picture carries no more of
    the class than its context did, so this reader's accuracy on the holed test pictures is a yardstick for
    how often filled pictures can be read right (an estimate: a better-trained reader of the rim may do more)."""
    import torch.nn.functional as F

    from ..models import build
    from ..models.classifier import random_shift
    from ..training import lr_factor, set_learning_rate

    torch.manual_seed(seed)
    model = build("classifier", {"num_classes": 10, "channels": channels}).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps, step = epochs * -(-len(train.y) // 128), 0
    for _ in range(epochs):
        order = torch.randperm(len(train.y))
        for start in range(0, len(order), 128):
            set_learning_rate([optimizer], 1e-3 * lr_factor("cosine", step, steps))
            step += 1
            index = order[start: start + 128]
            x = torch.where(hidden, 0.0, random_shift(train.x[index], 1))   # the hole stays where it is
            loss = F.cross_entropy(model.logits(x), train.y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def inpainting_table(count: int, datasets=("mnist", "fashion"), *, log=print, rim_images: int = 20_000,
                     rim_steps: int = 150_000) -> Table:
    table = Table(f"Inpainting: every filler on every hole kind ({count:,} test pictures at most per dataset)", [
        "dataset", "hidden", "filled by", "test pictures", "PSNR on the hidden pixels (dB)",
        "classifier reads the filled picture right"])
    for dataset, reader, test in readable_test_sets(table, datasets, count):
        table.rows.append([dataset, "nothing (the pictures themselves)", "", len(test.y), "",
                           percent(reader.accuracy(test.x, test.y))])
        loaded = [(title, load_or_note(f"{dataset}-{role}", table)) for role, title in FILLERS]
        fillers = [(title, model) for title, model in loaded if model is not None]
        centre = explore.preset_mask("centre")
        train = load_split(dataset, "train").take(rim_images)
        train_count = len(train.y)
        epochs = max(1, rim_steps // train_count)
        log(f"{dataset}: a reader of the rim ({train_count} pictures, {epochs} epochs)")
        rim = rim_reader(train, centre, epochs=epochs)
        with torch.no_grad():
            rim_right = float((rim.logits(torch.where(centre, 0.0, test.x)).argmax(1) == test.y).float().mean())
        table.rows.append([dataset, HOLES[0][1], f"no filler: a reader (64 channels) trained on pictures with this hole "
                           f"({train_count:,} training pictures, {epochs} epoch{'s' if epochs > 1 else ''})", len(test.y), "",
                           percent(rim_right)])
        mean = explore.mean_image(dataset)
        for kind, description in HOLES:
            hidden = hole_masks(kind, len(test.y))
            log(f"{dataset}: {description}")
            results = [(title, batched(lambda x, h, m=model: explore.inpaint_batch(m, x, h), test.x, hidden))
                       for title, model in fillers]
            results.append(("mean image", torch.where(hidden, mean, test.x)))
            for title, filled in results:
                table.rows.append([dataset, description, title, len(test.y),
                                   float(masked_psnr(filled, test.x, hidden).mean()),
                                   percent(reader.accuracy(filled, test.y))])
    table.notes.append("The row 'no filler' is a classifier of the reader's architecture trained on training pictures "
                       "with the centred hole blanked and read on the holed test pictures: an estimate of how much of the "
                       "class the rim tells. A filled picture carries no more of the class than its rim did, so a filler "
                       "read right much more often than that would be a surprise; it is an estimate, not a bound (a "
                       "better-trained reader of the rim could do more).")
    table.notes.append("Random blocks and brush strokes are the context encoders' training hole kinds, drawn with seed 0 "
                       "(the same holes for every filler); the bottom half is not among them. The VAE optimises its "
                       "code against the known pixels (100 Adam steps), the AE iterates reconstruct-and-keep-known, "
                       "the PixelCNN draws one completion (seed 0).")
    return table


def translation_table(count: int, datasets=("mnist", "fashion"), *, log=print) -> Table:
    table = Table(f"Sketch to picture: pix2pix on the edges of test pictures ({count:,} at most per dataset)", [
        "dataset", "pictures", "count", "classifier reads the right class",
        "Frechet distance to training pictures (classifier features)"])
    for dataset, reader, test in readable_test_sets(table, datasets, count):
        sketch = edges(test.x)
        drawn = ~is_blank(sketch)
        test, sketch = Split(test.x[drawn], test.y[drawn]), sketch[drawn]
        # One reference for every row: as many training pictures, so the test pictures' own distance is the floor.
        reference = reader.features(load_split(dataset, "train").take(len(test.y)).x)
        log(f"{dataset}: translating {len(test.y)} sketches")
        rows = [("the test pictures themselves", test.x, True)]
        for role, title in (("pix2pix", "pix2pix (L1 + adversarial)"), ("pix2pix-l1", "pix2pix, L1 only")):
            model = load_or_note(f"{dataset}-{role}", table)
            if model is None:
                continue
            with torch.no_grad():
                rows.append((f"{title} from their edges", batched(model.translate, sketch), True))
        gan = load_or_note(f"{dataset}-gan", table)
        if gan is not None:
            with torch.no_grad():
                rows.append(("DCGAN samples (no sketch)", samples_of(gan, len(test.y))[0], False))
        for title, pictures, readable in rows:
            table.rows.append([dataset, title, len(pictures), percent(reader.accuracy(pictures, test.y)) if readable else "",
                               frechet_distance(reader.features(pictures), reference)])
    table.notes.append("Every row of a dataset is compared with the same training pictures, as many as the row has, so "
                       "the test pictures' own distance is what real pictures score. Sketches are `gx.edges` of the "
                       "test pictures, the function the Sketch tab applies to a drawing.")
    return table
