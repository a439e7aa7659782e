import json
import math

import numpy as np
import pytest
import torch

import genexplorer as gx
from genexplorer import checkpoints, train
from genexplorer.augment import augment, random_affine
from genexplorer.train import TrainSettings, TrainingError, TrainingStopped, fit
from genexplorer.training import AveragedWeights

from test_data import write_idx


@pytest.fixture
def small_dataset(tmp_path):
    """64 training and 16 test images from the shipped digits, as an IDX folder."""
    x, y = gx.load_dataset("mnist", "test")
    folder = tmp_path / "digits"
    folder.mkdir()
    write_idx(folder / "train-images-idx3-ubyte", x[:64])
    write_idx(folder / "train-labels-idx1-ubyte", y[:64])
    write_idx(folder / "t10k-images-idx3-ubyte", x[100:116])
    write_idx(folder / "t10k-labels-idx1-ubyte", y[100:116])
    return folder


def settings(tmp_path, dataset, **overrides):
    base = dict(model="vae", dataset=str(dataset), out=str(tmp_path / "ckpt" / "digits-vae"), latent_dim=2,
                epochs=1, batch_size=32, width=4, log_dir=str(tmp_path / "runs"), device="cpu", seed=0)
    base.update(overrides)
    return TrainSettings(**base)


@pytest.mark.parametrize("model", ["ae", "dae", "vae", "cvae", "gan", "cgan", "wgan", "wgan-gp", "classifier", "pixelcnn", "pca", "context", "pix2pix",
                                   "diffusion", "flow"])
def test_two_step_training_run_of_every_family(model, tmp_path):
    """Two real steps on the shipped digits, ending in a loadable checkpoint."""
    heard = []
    options = {info.name for info in gx.models.family(model).option_info()}
    small = {k: v for k, v in dict(latent_dim=2, width=8).items() if k in options}
    out = fit(TrainSettings(model=model, dataset="mnist", out=str(tmp_path / f"mnist-{model}"), **small,
                            epochs=1, batch_size=16, max_steps=2, log_dir=str(tmp_path / "runs"),
                            device="cpu"),
              on_step=heard.append, log=lambda message: None)
    loaded = gx.load(out)
    assert loaded.kind == {"context": "context_encoder"}.get(model, model)
    assert loaded.dataset == "mnist" and loaded.class_names[3] == "3"
    config = checkpoints.read_config(out)
    if model == "pca":     # fitted in closed form: never cut short
        assert config["complete"] is True and config["metrics"]["explained_variance"] > 0.1
        assert [p.phase for p in heard] == ["epoch", "done"]
        return
    assert config["complete"] is False, "a run cut short by --max-steps is not complete"
    assert config["training"]["num_train_images"] == 4500
    assert [p.phase for p in heard][-2:] == ["epoch", "done"]
    assert all(math.isfinite(v) for p in heard for v in p.losses.values())
    assert (out / "samples.png").stat().st_size > 1000
    if model in ("gan", "cgan", "wgan", "wgan-gp"):
        assert config["metrics"]["test_frechet"] > 0, "GAN runs judge 1,000 samples each epoch"
    if model == "cgan":   # finished where it stopped (--resume --epochs 1): its last Frechet distance stays
        fit(TrainSettings(model=model, dataset="mnist", out=str(out), width=8, epochs=1, resume=True,
                          log_dir=str(tmp_path / "runs"), device="cpu"), log=lambda message: None)
        finished = checkpoints.read_config(out)
        assert finished["complete"] is True and finished["metrics"]["test_frechet"] == config["metrics"]["test_frechet"]
    if model in ("wgan", "wgan-gp"):
        assert config["training"]["lr"] == gx.models.family(model).learning_rate(loaded)
        assert "train_w_estimate" in config["metrics"]
    if model == "pix2pix":
        assert config["metrics"]["test_psnr"] > 0 and "train_l1" in config["metrics"]
    if model == "context":
        assert config["metrics"]["test_hole_psnr"] > 0 and "train_d_loss" in config["metrics"]
    if model == "pixelcnn":
        assert config["metrics"]["test_nll_nats"] > 0
        assert config["model_config"]["channels"] == 8


def test_full_epochs_give_a_complete_checkpoint_with_metrics_and_maps(small_dataset, tmp_path):
    out = fit(settings(tmp_path, small_dataset, epochs=2), log=lambda message: None)
    config = checkpoints.read_config(out)
    assert config["complete"] is True and config["epochs_done"] == 2
    assert config["metrics"]["test_neg_elbo_nats"] > 0 and config["metrics"]["test_psnr"] > 0
    maps = checkpoints.load_tensors(out, checkpoints.LATENT_MAP_FILE)
    assert maps["pca"].shape == (16, 2) and maps["labels"].shape == (16,)
    lines = (tmp_path / "runs" / "progress.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2]
    assert (tmp_path / "runs" / "epoch_002.png").exists()


def test_same_seed_same_weights(small_dataset, tmp_path):
    a = fit(settings(tmp_path, small_dataset, out=str(tmp_path / "a"), model="ae", latent_maps=False), log=lambda m: None)
    b = fit(settings(tmp_path, small_dataset, out=str(tmp_path / "b"), model="ae", latent_maps=False), log=lambda m: None)
    z = torch.randn(3, 2)
    assert torch.equal(gx.load(a).decode(z), gx.load(b).decode(z))


def test_refuses_to_overwrite_without_the_flag(small_dataset, tmp_path):
    fit(settings(tmp_path, small_dataset), log=lambda m: None)
    with pytest.raises(FileExistsError, match="--overwrite"):
        fit(settings(tmp_path, small_dataset), log=lambda m: None)


def test_overwrite_keeps_the_old_checkpoint_until_the_new_one_is_complete(small_dataset, tmp_path):
    out = fit(settings(tmp_path, small_dataset), log=lambda m: None)
    old_weights = (out / checkpoints.WEIGHTS_FILE).read_bytes()
    epochs_seen = []

    def stop_after_first_epoch():
        return len(epochs_seen) >= 1

    with pytest.raises(TrainingStopped):
        fit(settings(tmp_path, small_dataset, epochs=3, overwrite=True, seed=5),
            on_step=lambda p: p.phase == "epoch" and epochs_seen.append(p.epoch),
            should_stop=stop_after_first_epoch, log=lambda m: None)
    assert (out / checkpoints.WEIGHTS_FILE).read_bytes() == old_weights, "old checkpoint replaced too early"
    staged = out.with_name(f".{out.name}.incomplete")
    assert checkpoints.read_config(staged)["complete"] is False and checkpoints.read_config(staged)["epochs_done"] == 1
    assert gx.list_checkpoints(out.parent) == [out.name]
    fit(settings(tmp_path, small_dataset, epochs=2, overwrite=True, seed=5), log=lambda m: None)
    assert (out / checkpoints.WEIGHTS_FILE).read_bytes() != old_weights
    assert not staged.exists()


def test_resume_continues_where_it_stopped(small_dataset, tmp_path):
    out = fit(settings(tmp_path, small_dataset, epochs=1), log=lambda m: None)
    first_seconds = checkpoints.read_config(out)["training"]["seconds"]
    fit(settings(tmp_path, small_dataset, epochs=3, resume=True), log=lambda m: None)
    config = checkpoints.read_config(out)
    assert config["epochs_done"] == 3 and config["complete"] is True
    assert config["training"]["seconds"] >= first_seconds, "the time before the resume still counts"
    lines = (tmp_path / "runs" / "progress.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]


def test_resume_with_no_epochs_left_finishes_a_stopped_run(small_dataset, tmp_path):
    """A run stopped after epoch 2 of 4 (cancelled or killed) can be finished there: --resume --epochs 2
    evaluates it on the whole test set and marks it complete; a complete one is left untouched."""
    stopped = []

    def stop_after_two():
        return len(stopped) >= 2

    with pytest.raises(TrainingStopped):
        fit(settings(tmp_path, small_dataset, epochs=4), log=lambda m: None, should_stop=stop_after_two,
            on_step=lambda p: stopped.append(p) if p.phase == "epoch" else None)
    out = tmp_path / "ckpt" / "digits-vae"
    assert checkpoints.read_config(out)["complete"] is False and checkpoints.read_config(out)["epochs_done"] == 2
    fit(settings(tmp_path, small_dataset, epochs=2, resume=True), log=lambda m: None)
    config = checkpoints.read_config(out)
    assert config["complete"] is True and config["epochs_done"] == 2 and config["training"]["epochs"] == 2
    assert config["metrics"]["test_neg_elbo_nats"] > 0
    before = (out / "config.json").read_text()
    fit(settings(tmp_path, small_dataset, epochs=2, resume=True), log=lambda m: None)
    assert (out / "config.json").read_text() == before


def test_divergence_stops_with_a_clear_message(small_dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(gx.models.Family, "stepper", lambda *a, **k: (lambda x, y: {"loss": float("nan")}))
    with pytest.raises(TrainingError, match="diverged.*smaller learning rate"):
        fit(settings(tmp_path, small_dataset), log=lambda m: None)


@pytest.mark.parametrize("bad", [
    {"epochs": 0}, {"epochs": 10 ** 6}, {"batch_size": -1}, {"latent_dim": 100000},
    {"lr": float("nan")}, {"lr": -1.0}, {"beta": float("inf")}, {"noise": "pink"}, {"noise_level": 2.0},
    {"model": "no-such-family"}, {"out": ""}, {"ema": 0.99}, {"font_digits": True},
])
def test_bad_settings_are_refused_before_anything_runs(bad, small_dataset, tmp_path):
    with pytest.raises(ValueError):
        fit(settings(tmp_path, small_dataset, **bad), log=lambda m: None)
    assert not (tmp_path / "ckpt").exists()


def test_device_choice():
    assert train.pick_device("auto").type in ("cuda", "mps", "cpu")
    assert train.pick_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no usable CUDA"):
            train.pick_device("cuda")


def test_command_line(small_dataset, tmp_path, capsys):
    argv = ["--model", "ae", "--dataset", str(small_dataset), "--latent-dim", "2", "--width", "4", "--epochs", "1",
            "--batch-size", "32", "--device", "cpu", "--out", str(tmp_path / "cli-ae"), "--log-dir", str(tmp_path / "r")]
    assert train.main(argv) == 0
    printed = capsys.readouterr().out
    assert "device: cpu" in printed and "epoch 1/1 done" in printed and "saved" in printed
    assert train.main(argv) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert train.main(argv[:-4] + ["--out", str(tmp_path / "x"), "--epochs", "-3"]) == 2


def test_classifier_trains_on_the_labels_and_reports_test_accuracy(small_dataset, tmp_path):
    out = fit(settings(tmp_path, small_dataset, model="classifier", latent_dim=8, epochs=2), log=lambda message: None)
    metrics = checkpoints.read_config(out)["metrics"]
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["test_cross_entropy_nats"] > 0
    assert "train_accuracy" in metrics
    assert checkpoints.load_tensors(out, checkpoints.LATENT_MAP_FILE) is None, "a classifier has no latent map"


def test_wgan_updates_the_generator_once_every_critic_steps_batches(monkeypatch):
    model = gx.models.build("wgan", {"latent_dim": 8, "width": 8, "critic_steps": 3})
    family = gx.models.family_of(model)
    optimizers = family.optimizers(model, 5e-5)
    assert isinstance(optimizers["d"], torch.optim.RMSprop)
    generator_updates = []
    monkeypatch.setattr(optimizers["g"], "step", lambda *a, **k: generator_updates.append(1))
    step = family.stepper(model, optimizers)
    x = torch.rand(4, 1, 28, 28)
    for _ in range(7):
        terms = step(x, None)
    assert len(generator_updates) == 2, "batches 3 and 6 of 7 update G"
    assert all(p.abs().max() <= model.config.clip for p in model.discriminator.parameters())
    assert math.isfinite(terms["g_loss"]) and "w_estimate" in terms


def test_random_affine_moves_each_picture_its_own_way_and_keeps_the_ink():
    torch.manual_seed(0)
    x = torch.zeros(16, 1, 28, 28)
    x[:, :, 10:18, 12:16] = 1.0
    moved = random_affine(x)
    assert moved.shape == x.shape and moved.min() >= 0 and moved.max() <= 1
    ink = moved.sum((1, 2, 3)) / x.sum((1, 2, 3))
    assert ((ink > 0.75) & (ink < 1.3)).all(), "scaled by 0.9-1.1 at most: the ink stays about the same"
    assert len({tuple(m.flatten().round(decimals=3).tolist()) for m in moved}) == 16
    centres = (moved[:, 0].sum(2) * torch.arange(28)).sum(1) / moved[:, 0].sum((1, 2))
    assert float((centres - 13.5).abs().max()) < 3.5, "shifted 2 pixels at most (plus the turn)"


def test_handwriting_augmentation_varies_strokes_and_keeps_pictures_in_range():
    torch.manual_seed(0)
    x = torch.zeros(64, 1, 28, 28)
    x[:, :, 6:22, 13:15] = 1.0               # a "1", two pixels wide
    varied = augment(x, "handwriting")
    assert varied.shape == x.shape and varied.min() >= 0 and varied.max() <= 1
    ink = varied.sum((1, 2, 3)) / x.sum((1, 2, 3))
    assert float(ink.min()) < 0.8 and float(ink.max()) > 1.3, "some strokes thinner, some thicker"
    blurred = ((varied > 0.05) & (varied < 0.95)).float().sum((1, 2, 3))
    assert float(blurred.max()) > 20, "some pictures are blurred"


def test_augment_and_the_context_bottleneck_reach_the_run(small_dataset, tmp_path):
    out = fit(settings(tmp_path, small_dataset, model="context", bottleneck="channelwise", augment="geometry",
                       max_steps=2), log=lambda m: None)
    config = checkpoints.read_config(out)
    assert config["model_config"]["bottleneck"] == "channelwise" and config["training"]["augment"] == "geometry"
    cgan = fit(settings(tmp_path, small_dataset, model="cgan", width=8, max_steps=1, out=str(tmp_path / "ckpt" / "digits-cgan")),
               log=lambda m: None)
    cgan_config = checkpoints.read_config(cgan)
    assert cgan_config["model_config"]["projection"] is True, "new cGANs use the projection D"
    assert cgan_config["model_config"]["class_loss_weight"] == 1.0 and "train_d_class" in cgan_config["metrics"]
    assert cgan_config["model_config"]["class_planes_in_d"] is False
    with pytest.raises(ValueError, match=r"--class-loss-weight\) must be"):
        fit(settings(tmp_path, small_dataset, model="cgan", width=8, class_loss_weight=-1), log=lambda m: None)
    with pytest.raises(ValueError, match="class-conditional GAN"):
        fit(settings(tmp_path, small_dataset, model="gan", width=8, class_loss_weight=1), log=lambda m: None)
    with pytest.raises(ValueError, match="--class-loss-weight: not an option of vae"):
        fit(settings(tmp_path, small_dataset, model="vae", class_loss_weight=1), log=lambda m: None)
    with pytest.raises(ValueError, match="--bottleneck: not an option of vae"):
        fit(settings(tmp_path, small_dataset, model="vae", bottleneck="channelwise"), log=lambda m: None)
    with pytest.raises(ValueError, match=r"--augment\) must be one of"):
        fit(settings(tmp_path, small_dataset, augment="mirror"), log=lambda m: None)


def test_the_zoo_settings_reach_the_model_and_are_refused_elsewhere(small_dataset, tmp_path):
    out = fit(settings(tmp_path, small_dataset, model="ae", architecture="dense", hidden=0, latent_dim=1024,
                       code_activation="relu", l1=0.01, latent_maps=False), log=lambda m: None)
    config = checkpoints.read_config(out)["model_config"]
    assert (config["architecture"], config["hidden"], config["latent_dim"], config["code_activation"], config["l1"]) == \
        ("dense", 0, 1024, "relu", 0.01)
    assert "train_active" in checkpoints.read_config(out)["metrics"], "the sparse AE logs its active units"
    for bad, message in [(dict(model="vae", l1=0.1), "not an option of vae"), (dict(model="ae", l1=-1), r"--l1\) must"),
                         (dict(model="gan", architecture="dense"), "not an option of gan"),
                         (dict(model="ae", latent_dim=5000), r"--latent-dim\) must")]:
        with pytest.raises(ValueError, match=message):
            fit(settings(tmp_path, small_dataset, **bad), log=lambda m: None)


def test_cosine_schedule_falls_from_the_base_rate_to_zero_and_reaches_the_run(small_dataset, tmp_path):
    assert train.lr_factor("constant", 7, 10) == 1.0
    factors = [train.lr_factor("cosine", step, 10) for step in range(11)]
    assert factors[0] == 1.0 and factors[5] == pytest.approx(0.5) and factors[10] == pytest.approx(0.0)
    assert all(a > b for a, b in zip(factors, factors[1:])), "it only falls"
    out = fit(settings(tmp_path, small_dataset, epochs=2, lr_schedule="cosine"), log=lambda m: None)
    assert checkpoints.read_config(out)["training"]["lr_schedule"] == "cosine"
    saved = checkpoints.load_optimizer_state(out)["model"]["param_groups"][0]["lr"]
    assert saved < 1e-3 * 0.2, "the last step ran near the end of the cosine"
    with pytest.raises(ValueError, match="schedule"):
        fit(settings(tmp_path, small_dataset, lr_schedule="step"), log=lambda m: None)


def test_ema_saves_the_averaged_generator_and_resumes_the_live_one(small_dataset, tmp_path):
    out = fit(settings(tmp_path, small_dataset, model="gan", width=8, epochs=1, ema=0.9), log=lambda m: None)
    live = checkpoints.load(out)   # the checkpoint's generator is the average ...
    from safetensors.torch import load_file

    trained = load_file(str(out / train.LIVE_GENERATOR_FILE))   # ... and the live one is kept for --resume
    averaged = dict(live.generator.state_dict())
    weight = "net.0.weight"
    assert not torch.equal(averaged[weight], trained[weight]), "the average trails the live weights"
    assert torch.equal(averaged["net.1.running_mean"], trained["net.1.running_mean"]), "batch-norm statistics copied"
    assert checkpoints.read_config(out)["training"]["ema"] == 0.9
    fit(settings(tmp_path, small_dataset, model="gan", width=8, epochs=2, ema=0.9, resume=True), log=lambda m: None)
    assert checkpoints.read_config(out)["epochs_done"] == 2
    resumed = load_file(str(out / train.LIVE_GENERATOR_FILE))
    assert not torch.equal(resumed[weight], trained[weight])
    with pytest.raises(ValueError, match="EMA decay"):
        fit(settings(tmp_path, small_dataset, model="gan", width=8, ema=1.0), log=lambda m: None)
    with pytest.raises(ValueError, match="vae has none"):
        fit(settings(tmp_path, small_dataset, ema=0.99), log=lambda m: None)


def test_averaging_moves_the_copy_a_share_of_the_way():
    generator = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.BatchNorm1d(2))
    averaged = AveragedWeights(generator, 0.75)
    averaged.updates = 100          # past the warm-up: the decay is the one asked for
    before = generator[0].weight.detach().clone()
    with torch.no_grad():
        generator[0].weight.add_(4.0)
        generator[1].running_mean.fill_(3.0)
    averaged.update(generator)
    assert torch.allclose(averaged.module[0].weight, before + 1.0), "a quarter of the way to the new weights"
    assert torch.equal(averaged.module[1].running_mean, torch.full((2,), 3.0))
    assert not any(p.requires_grad for p in averaged.module.parameters())


def test_finishing_a_stopped_ema_run_keeps_its_averaged_generator(small_dataset, tmp_path):
    """--resume --epochs N on a GAN run stopped after epoch N saves the average it had, not the live generator."""
    stopped = []
    with pytest.raises(TrainingStopped):
        fit(settings(tmp_path, small_dataset, model="gan", width=8, epochs=2, ema=0.9), log=lambda m: None,
            should_stop=lambda: len(stopped) >= 1, on_step=lambda p: stopped.append(p) if p.phase == "epoch" else None)
    out = tmp_path / "ckpt" / "digits-vae"
    averaged = {k: v.clone() for k, v in checkpoints.load(out).generator.state_dict().items()}
    fit(settings(tmp_path, small_dataset, model="gan", width=8, epochs=1, ema=0.9, resume=True), log=lambda m: None)
    assert checkpoints.read_config(out)["complete"] is True
    finished = checkpoints.load(out).generator.state_dict()
    assert all(torch.equal(finished[k], averaged[k]) for k in averaged)


def test_deeper_nets_and_the_class_at_every_layer_reach_the_run_and_are_refused_elsewhere(small_dataset, tmp_path):
    deep = fit(settings(tmp_path / "deep", small_dataset, model="vae", blocks=1, latent_maps=False), log=lambda m: None)
    assert checkpoints.read_config(deep)["model_config"]["blocks"] == 1
    cvae = fit(settings(tmp_path / "cvae", small_dataset, model="cvae", class_every_layer=True, latent_maps=False),
               log=lambda m: None)
    assert checkpoints.read_config(cvae)["model_config"]["class_every_layer"] is True
    assert checkpoints.load(cvae).config.class_every_layer
    for bad, message in [(dict(model="gan", blocks=1), "--blocks"), (dict(model="ae", architecture="dense", blocks=1),
                                                                     "--blocks"),
                         (dict(model="vae", blocks=9), "blocks"), (dict(model="vae", class_every_layer=True), "cvae"),
                         (dict(model="cvae", class_every_layer=True, blocks=1), "without residual blocks")]:
        with pytest.raises(ValueError, match=message):
            fit(settings(tmp_path / "bad", small_dataset, **bad), log=lambda m: None)
    args, _ = train.parse_args(["--model", "cvae", "--out", "x", "--class-every-layer", "--blocks", "0"])
    assert args.options.class_every_layer and args.options.blocks == 0


def test_the_average_warms_up_so_early_epochs_are_not_mostly_the_untrained_weights():
    averaged = AveragedWeights(torch.nn.Linear(2, 2), 0.999)
    decays = []
    for _ in range(10_000):
        decays.append(averaged.current_decay())
        averaged.updates += 1
    assert decays[0] == pytest.approx(0.1) and decays[90] == pytest.approx(0.91)
    assert all(a <= b for a, b in zip(decays, decays[1:])) and decays[-1] == 0.999, "up to the decay asked for"
    untrained_share = math.prod(decays[:1000])
    assert untrained_share < 1e-6, "after 1,000 steps the untrained weights are gone from the average"


def test_a_resumed_cosine_run_goes_on_along_the_same_curve(small_dataset, tmp_path, monkeypatch):
    """A 4-epoch cosine run stopped after epoch 1 and resumed goes on at the rate it had reached (cos(pi/4)
    of the base at the first resumed step), not from the full rate of a fresh cosine over the last 3 epochs."""
    import genexplorer.training as training

    heard = []
    with pytest.raises(TrainingStopped):   # stops at the first step after epoch 1 was saved
        fit(settings(tmp_path, small_dataset, epochs=4, lr_schedule="cosine"), log=lambda m: None,
            on_step=heard.append, should_stop=lambda: any(p.phase == "epoch" for p in heard))
    rates = []
    real = training.set_learning_rate
    monkeypatch.setattr(training, "set_learning_rate", lambda opts, lr: (rates.append(lr), real(opts, lr)))
    out = fit(settings(tmp_path, small_dataset, epochs=4, lr_schedule="cosine", resume=True), log=lambda m: None)
    base = rates[0]                              # the resume first restores the base rate ...
    assert rates[1] == pytest.approx(base * (1 + math.cos(math.pi / 4)) / 2), "... then goes on along the curve"
    assert rates[-1] < base * 0.1, "and ends near the cosine's end"
    assert checkpoints.read_config(out)["epochs_done"] == 4
