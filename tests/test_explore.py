"""The explorer's logic on the shipped digit checkpoints."""
import os
import time

import numpy as np
import pytest
import torch
from PIL import Image

import genexplorer as gx
from genexplorer import explore

cache = explore.ModelCache()


@pytest.fixture(scope="module")
def seven():
    images, labels = gx.load_dataset("mnist", "test")
    return explore.as_batch(images[np.flatnonzero(labels == 7)[0]])


@pytest.fixture(scope="module")
def one():
    images, labels = gx.load_dataset("mnist", "test")
    return explore.as_batch(images[np.flatnonzero(labels == 1)[0]])


def test_cache_lists_and_reuses_models():
    names = cache.names("mnist")
    assert {"mnist-ae", "mnist-vae", "mnist-cvae", "mnist-dae", "mnist-ae2d", "mnist-vae2d", "mnist-gan"} <= set(names)
    gans = cache.names("mnist", able="adversarial")   # the app tests' GAN runs join it when they ran first
    assert "mnist-gan" in gans and "mnist-vae" not in gans and all(cache.get(name).can("adversarial") for name in gans)
    assert cache.get("mnist-vae") is cache.get("mnist-vae")
    assert cache.default("mnist", "vae2d") == "mnist-vae2d"
    with pytest.raises(gx.CheckpointError):
        cache.get("../../etc")


def test_listing_follows_checkpoints_added_changed_and_broken_on_disk(tmp_path, monkeypatch):
    import json
    import shutil

    from genexplorer import checkpoints

    monkeypatch.setattr(explore.cache, "LISTING_TTL_S", 0.0)   # edits in place, by hand: seen at the next look

    shutil.copytree(checkpoints.checkpoints_dir() / "mnist-vae", tmp_path / "mnist-vae")
    local = explore.ModelCache(tmp_path)
    assert local.names("mnist") == ["mnist-vae"] and local.names("fashion") == []
    config_path = tmp_path / "mnist-vae" / checkpoints.CONFIG_FILE
    config = json.loads(config_path.read_text())
    config["dataset"] = "fashion"
    config_path.write_text(json.dumps(config))
    os.utime(config_path, ns=(time.time_ns(), time.time_ns() + 10 ** 9))  # a later save
    assert local.names("mnist") == [] and local.names("fashion") == ["mnist-vae"]
    shutil.copytree(tmp_path / "mnist-vae", tmp_path / "mnist-vae-b")
    assert local.names("fashion") == ["mnist-vae", "mnist-vae-b"]
    (tmp_path / "mnist-vae-b" / checkpoints.CONFIG_FILE).write_text("{not json")
    os.utime(tmp_path / "mnist-vae-b" / checkpoints.CONFIG_FILE, ns=(time.time_ns(), time.time_ns() + 2 * 10 ** 9))
    assert local.names("fashion") == ["mnist-vae"]


def test_the_listing_is_cached_until_the_folder_changes(tmp_path, monkeypatch):
    """Every live answer asks for the listing: it is kept while the checkpoints folder is unchanged (a save
    renames a folder in it, so a new or replaced checkpoint shows at once) and re-read after LISTING_TTL_S."""
    import shutil

    from genexplorer import checkpoints

    monkeypatch.setattr(explore.cache, "LISTING_TTL_S", 3600.0)
    shutil.copytree(checkpoints.checkpoints_dir() / "mnist-vae", tmp_path / "mnist-vae")
    local = explore.ModelCache(tmp_path)
    assert local.names("mnist") == ["mnist-vae"]
    looks = []
    real = local._header
    monkeypatch.setattr(local, "_header", lambda name: looks.append(name) or real(name))
    assert local.names("mnist") == ["mnist-vae"] and local.names() == ["mnist-vae"] and looks == []
    shutil.copytree(tmp_path / "mnist-vae", tmp_path / "mnist-vae-b")
    os.utime(tmp_path, ns=(time.time_ns(), time.time_ns() + 10 ** 9))   # coarse clocks: make the change visible
    assert local.names("mnist") == ["mnist-vae", "mnist-vae-b"]
    monkeypatch.setattr(explore.cache, "LISTING_TTL_S", 0.0)
    looks.clear()
    local.names("mnist")
    assert sorted(looks) == ["mnist-vae", "mnist-vae-b"]


def test_pickers_never_offer_the_classifier_but_it_reads_a_seven(seven):
    assert "mnist-classifier" in gx.list_checkpoints()
    assert "mnist-classifier" not in cache.names("mnist") and "mnist-classifier" not in cache.names()
    assert cache.names("mnist", able="reads") == ["mnist-classifier"]
    assert cache.default("mnist", "classifier") == "mnist-classifier"
    assert cache.default("mnist", "cvae") == "mnist-cvae"
    reading = explore.classify(cache.get("mnist-classifier"), seven)
    assert reading[0][0] == "7" and reading[0][1] > 0.5 and len(reading) == 3
    assert reading == sorted(reading, key=lambda item: -item[1])
    with pytest.raises(explore.ExploreError, match="not a classifier"):
        explore.classify(cache.get("mnist-vae"), seven)


def test_reconstructions_are_close_and_carry_the_vae_terms(seven):
    vae = cache.get("mnist-vae")
    result = explore.reconstruct(vae, seven)
    assert result.image.shape == (28, 28) and result.image.dtype == np.uint8
    assert result.mse < 0.03 and result.psnr > 15
    assert result.details["rec_nats"] > 0 and result.details["kl_nats"] > 0


def test_cvae_picks_the_right_class_and_obeys_a_chosen_one(seven):
    cvae = cache.get("mnist-cvae")
    label, neg_elbo = explore.best_class(cvae, seven)
    assert label == 7 and neg_elbo.shape == (10,)
    assert explore.reconstruct(cvae, seven).details["class"] == "7"
    forced = explore.reconstruct(cvae, seven, label=1)
    assert forced.details == {**forced.details, "class": "1", "class_source": "chosen"}


def test_denoising_ae_beats_the_plain_ae_on_noise(seven):
    noisy = explore.make_noisy(seven, "gaussian", 0.4, seed=1)
    assert torch.equal(noisy, explore.make_noisy(seven, "gaussian", 0.4, seed=1))
    results = {r.name: r for r in explore.denoise({"ae": cache.get("mnist-ae"), "dae": cache.get("mnist-dae")}, seven, noisy)}
    assert results["dae"].psnr > results["ae"].psnr + 3
    assert results["dae"].ssim > results["noisy input"].ssim


@pytest.mark.parametrize("level", [float("nan"), float("inf"), -0.1, 1.5, "abc"])
def test_bad_noise_levels(seven, level):
    with pytest.raises(explore.ExploreError):
        explore.make_noisy(seven, "gaussian", level, seed=0)


def test_latent_checks_and_decoding():
    vae = cache.get("mnist-vae")
    z = explore.check_latent(vae, [0.5] * 16)
    assert explore.decode_image(vae, z).shape == (28, 28)
    for bad in ([0.0] * 3, [float("nan")] * 16, [1e9] * 16, ["x"] * 16):
        with pytest.raises(explore.ExploreError):
            explore.check_latent(vae, bad)


def test_start_latent_modes(seven):
    vae, gan = cache.get("mnist-vae"), cache.get("mnist-gan")
    assert torch.equal(explore.start_latent(vae, "zero"), torch.zeros(1, 16))
    assert torch.equal(explore.start_latent(gan, "random", seed=3), explore.start_latent(gan, "random", seed=3))
    assert torch.allclose(explore.start_latent(vae, "drawing", x=seven), vae.encode(seven))
    with pytest.raises(explore.ExploreError, match="no encoder"):
        explore.start_latent(gan, "drawing", x=seven)
    with pytest.raises(explore.ExploreError, match="draw something"):
        explore.start_latent(vae, "drawing")


def test_maps_cover_the_test_set_and_place_a_drawing(seven):
    store = explore.MapStore(cache)
    assert store.methods("mnist-vae2d") == ["latent"]
    assert set(store.methods("mnist-vae")) <= {"umap", "pca"}
    for name in ("mnist-vae2d", "mnist-vae", "mnist-ae"):
        for method in store.methods(name):
            latent_map = store.get(name, method)
            assert latent_map.coords.shape == (500, 2) and latent_map.labels.shape == (500,)
            point = store.place(name, seven, method)
            assert point.shape == (2,) and np.isfinite(point).all()
    # a test image lands where its own code is drawn
    images, _ = gx.load_dataset("mnist", "test")
    latent_map = store.get("mnist-vae", "pca")
    assert np.allclose(store.place("mnist-vae", explore.as_batch(images[10]), "pca"), latent_map.coords[10], atol=1e-3)
    with pytest.raises(explore.ExploreError, match="no encoder"):
        store.get("mnist-gan")


def test_manifold_grids():
    picture = explore.manifold(cache.get("mnist-vae2d"), size=10)
    assert picture.shape == (280, 280)
    assert explore.manifold(cache.get("mnist-ae2d"), size=5, extent=4).shape == (140, 140)
    with pytest.raises(explore.ExploreError, match="2-D latent"):
        explore.manifold(cache.get("mnist-vae"))


def test_interpolation_rows_start_and_end_at_the_endpoints(seven, one):
    rows = explore.interpolate({"ae": cache.get("mnist-ae"), "vae": cache.get("mnist-vae")}, one, seven, 6)
    assert set(rows) == {"pixels", "ae", "vae"} and all(r.shape == (6, 28, 28) for r in rows.values())
    assert np.array_equal(rows["pixels"][0], explore.to_uint8(one)[0])
    assert np.array_equal(rows["pixels"][-1], explore.to_uint8(seven)[0])
    assert np.array_equal(rows["vae"][-1], explore.to_uint8(cache.get("mnist-vae").reconstruct(seven))[0])
    with pytest.raises(explore.ExploreError):
        explore.interpolate({}, one, seven, 1000)


def test_slerp_keeps_the_norm_of_equal_norm_vectors():
    a, b = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    path = explore.slerp(a, b, torch.linspace(0, 1, 7))
    assert torch.allclose(path.norm(dim=1), torch.full((7,), 3.0), atol=1e-5)
    assert torch.allclose(path[0], a) and torch.allclose(path[-1], b, atol=1e-6)


def test_gan_tour_and_samples_are_reproducible():
    gan = cache.get("mnist-gan")
    tour = explore.gan_tour(gan, seed=1, stops=3, steps=4)
    assert tour.shape == (12, 28, 28)
    assert np.array_equal(tour, explore.gan_tour(gan, seed=1, stops=3, steps=4))
    assert np.array_equal(explore.prior_samples(gan, 5, 7), explore.prior_samples(gan, 5, 7))
    assert not np.array_equal(explore.prior_samples(gan, 5, 7), explore.prior_samples(gan, 5, 8))


def test_cvae_grid_shares_style_down_columns():
    cvae = cache.get("mnist-cvae")
    grid = explore.class_grid(cvae, 3, seed=0)
    assert grid.shape == (30, 28, 28)
    with pytest.raises(explore.ExploreError, match="not class-conditional"):
        explore.class_grid(cache.get("mnist-vae"), 3, 0)


def test_inpainting_keeps_known_pixels_and_the_vae_beats_the_mean_image():
    images, _ = gx.load_dataset("mnist", "test")
    hidden = explore.preset_mask("centre")
    known = ~hidden[0, 0].numpy()
    mean = (explore.mean_image("mnist").numpy()[0, 0] * 255).round().astype(np.uint8)
    vae_scores, mean_scores = [], []
    for truth in images[::50]:
        x = explore.as_batch(truth)
        filled = explore.inpaint(cache.get("mnist-vae"), x, hidden, iterations=60)
        assert np.array_equal(filled[known], truth[known]), "known pixels must be kept"
        vae_scores.append(explore.hidden_psnr(filled, truth, hidden))
        mean_scores.append(explore.hidden_psnr(np.where(known, truth, mean), truth, hidden))
    assert np.median(vae_scores) > np.median(mean_scores) + 1.0, (vae_scores, mean_scores)
    ae_filled = explore.inpaint(cache.get("mnist-ae"), explore.as_batch(images[0]), hidden)
    assert np.array_equal(ae_filled[known], images[0][known])
    assert all(p.grad is None for p in cache.get("mnist-vae").parameters()), "inpainting must not touch the shared model"


def test_exports_are_real_png_and_gif(seven, one):
    rows = list(explore.interpolate({}, one, seven, 5).values())
    png, gif = explore.strip_png(rows), explore.strip_gif(rows + rows)
    import io
    assert Image.open(io.BytesIO(png)).format == "PNG"
    animation = Image.open(io.BytesIO(gif))
    assert animation.format == "GIF" and animation.n_frames == 8


def test_abilities_not_names_decide_which_checkpoint_plays_a_part(tmp_path, monkeypatch):
    """The pickers and the tabs read what a checkpoint can do from its config.json (no weights loaded): a GAN saved
    under the VAE's name does not play the VAE, and a family the explorer never heard of is offered where its
    abilities are wanted. The name "<dataset>-<role>" only says which checkpoint is shown first."""
    import json
    import shutil

    from genexplorer import checkpoints, models
    from genexplorer.models.ae import AE, AEFamily

    root = checkpoints.checkpoints_dir()
    shutil.copytree(root / "mnist-gan", tmp_path / "mnist-vae")
    for name in ("mnist-ae", "mnist-classifier"):
        shutil.copytree(root / name, tmp_path / name)
    shutil.copytree(root / "mnist-ae", tmp_path / "mnist-newcomer")
    config = json.loads((tmp_path / "mnist-newcomer" / checkpoints.CONFIG_FILE).read_text())
    (tmp_path / "mnist-newcomer" / checkpoints.CONFIG_FILE).write_text(json.dumps({**config, "kind": "newcomer"}))

    class Newcomer(AE):
        abilities = frozenset({"encodes"})

    monkeypatch.setitem(models.FAMILIES, "newcomer", AEFamily("newcomer", Newcomer))
    local = explore.ModelCache(tmp_path)
    assert local.names("mnist", able="encodes") == ["mnist-ae", "mnist-newcomer"]
    assert local.names("mnist") == ["mnist-ae", "mnist-vae"], "the sliders: what decodes"
    assert local.names("mnist", able="reads") == ["mnist-classifier"]
    assert local.default("mnist", "ae") == "mnist-ae" and local.default("mnist", "vae") is None
    loaded, notes = local.load_roles("mnist", explore.DRAWING_ROLES)
    assert list(loaded) == ["AE"]
    assert "VAE: mnist-vae (a gan) cannot play this part: it lacks encodes, bound_likelihood" in notes
    assert "CVAE: no cvae checkpoint for mnist" in notes
    with pytest.raises(explore.ExploreError, match="unknown role"):
        local.default("mnist", "vea")


def test_one_drawing_gets_every_models_answer_from_one_call(float32_previews):
    from test_live import drawn_seven

    answer = explore.answer_drawing(explore.Drawing(drawn_seven(), "mnist"), cache)
    assert answer.seen.shape == (28, 28) and answer.seen.dtype == np.uint8 and not answer.problems
    assert [title for _, title in answer.roles] == ["AE", "VAE", "CVAE", "Denoising AE"]
    assert all(picture.shape == (28, 28) for picture in answer.pictures)
    assert answer.results[2].details["class"] == "7" and answer.reading[0][0] == "7"
    assert [reading[0][0] for reading in answer.readings] == ["7"] * 4
    title, rec, kl = answer.bound
    assert title == "VAE" and rec > 0 and kl > 0
    assert answer.exact_nats[0] == "PixelCNN" and answer.exact_nats[1] > 0
    # the live channel's batch: the same pictures (float32 here), several datasets and classes at once
    speck = np.zeros((112, 112), np.uint8)
    speck[50, 50] = 40
    drawings = [explore.Drawing(drawn_seven(), "mnist"), explore.Drawing(None, "fashion"),
                explore.Drawing(drawn_seven(), "fashion", label=3), explore.Drawing(speck, "mnist")]
    batch = explore.answer_drawings(drawings, cache)
    assert all(np.array_equal(a, b) for a, b in zip(batch[0].pictures, answer.pictures))
    assert batch[1].seen is None and batch[1].blank == "" and batch[1].pictures == [None] * 4
    alone = explore.answer_drawing(drawings[2], cache)
    assert all(np.array_equal(a, b) for a, b in zip(batch[2].pictures, alone.pictures))
    assert alone.results[2].details == {**alone.results[2].details, "class": "Dress", "class_source": "chosen"}
    assert batch[3].seen is None and "blank" in batch[3].blank and batch[3].pictures == [None] * 4
    with pytest.raises(explore.ExploreError, match="class must be between 0 and 9"):
        explore.Drawing(drawn_seven(), "mnist", label=10)
