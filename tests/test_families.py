"""The family declarations: each family's options -> command-line flags -> the Train form, and back, for every
family; abilities, not names, decide what the pickers list; the shipped recipes still parse."""
import dataclasses
import re
import shlex
from pathlib import Path

import pytest

from genexplorer import models, train
from genexplorer.models import FAMILIES, ABILITIES, kinds_that
from genexplorer.models.family import Family, NoOptions, check, option
from genexplorer.train_form import OPTION_NAMES, RUN_CONTROLS, form_settings, start_arguments
from genexplorer.training import TrainSettings

KINDS = sorted(FAMILIES)
ROOT = Path(__file__).resolve().parent.parent


def non_default_options(kind: str) -> dict:
    """A value other than the default for every option that can take one (so a round trip that drops it shows)."""
    values = {}
    for info in FAMILIES[kind].option_info():
        if info.type is bool:
            values[info.name] = not info.default
        elif info.choices is not None:
            values[info.name] = [c for c in info.choices if c != info.default][0]
        elif info.type is int:
            values[info.name] = int(info.low if info.low is not None and info.low > 0 else 3) + 1
        elif info.type is float:
            values[info.name] = (info.low or 0) + 0.5 * ((info.high or 1) - (info.low or 0))
    return values


def usable(kind: str, values: dict) -> dict:
    """Drop the options a family refuses in combination (so the round trip tests the mapping, not the checks)."""
    while True:
        try:
            FAMILIES[kind].options(**values)
            return values
        except ValueError as exc:
            named = [n for n in values if f"--{n.replace('_', '-')}" in str(exc)]
            assert named, exc
            values.pop(named[0])


@pytest.mark.parametrize("kind", KINDS)
def test_options_round_trip_through_the_command_line(kind):
    values = usable(kind, non_default_options(kind))
    settings = TrainSettings(model=kind, out="checkpoints/x", epochs=3, lr_schedule="cosine", **values)
    argv = train.command_line(settings.to_dict())
    parsed, _ = train.parse_args(argv)
    assert parsed.to_dict() == settings.to_dict()
    assert dataclasses.asdict(parsed.options) == dataclasses.asdict(settings.options)


@pytest.mark.parametrize("kind", KINDS)
def test_options_round_trip_through_the_train_form(kind):
    """The Train form's arguments for a family -> the settings its handler makes: the same options."""
    values = usable(kind, non_default_options(kind))
    cli_kind = "context" if kind == "context_encoder" else kind
    arguments = start_arguments(family=cli_kind, **values)
    assert len(arguments) == len(RUN_CONTROLS) + len(OPTION_NAMES)
    option_values = dict(zip(OPTION_NAMES, arguments[len(RUN_CONTROLS):]))
    made = form_settings(cli_kind, option_values)
    assert TrainSettings(model=cli_kind, out="x", **made).to_dict() == \
        TrainSettings(model=cli_kind, out="x", **values).to_dict()


@pytest.mark.parametrize("kind", KINDS)
def test_help_lists_the_familys_own_options_only(kind, capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--model", kind, "--help"])
    printed = capsys.readouterr().out
    own = {info.flag for info in FAMILIES[kind].option_info()}
    others = {info.flag for f in FAMILIES.values() for info in f.option_info()} - own
    assert all(flag in printed for flag in own)
    assert not any(re.search(re.escape(flag) + r"\b", printed) for flag in others)
    for info in FAMILIES[kind].option_info():
        assert info.help.split(" ")[0] in printed


def test_an_option_of_another_family_is_refused_with_the_familys_options():
    with pytest.raises(ValueError, match=r"--beta: not an option of gan \(its options: .*--latent-dim"):
        TrainSettings(model="gan", beta=2.0)
    with pytest.raises(SystemExit):
        train.parse_args(["--model", "gan", "--out", "x", "--beta", "2"])


def test_every_shipped_recipe_still_parses():
    """tools/train_shipped.sh's command lines (old ones) keep working with the generated command line."""
    text = (ROOT / "tools" / "train_shipped.sh").read_text().replace("\\\n", " ")
    values = {"dataset": "mnist", "epochs": "10", "weight": "0.001", "more": "80", "name": "mnist-context",
              "p2p": "20", "model": "wgan"}
    commands = [line.strip()[len("train "):] for line in text.splitlines() if line.strip().startswith("train --")]
    assert len(commands) >= 20
    for command in commands:
        argv = shlex.split(re.sub(r"\$(\w+)", lambda m: values.get(m.group(1), "x"), command))
        settings, _ = train.parse_args(["--threads", "1", *argv] + ([] if "--out" in argv else ["--out", "x"]))
        assert settings.run.model in argv


def test_abilities_decide_what_each_picker_lists(monkeypatch):
    assert kinds_that("encodes") == ("ae", "dae", "vae", "cvae", "pca")
    assert set(kinds_that("exact_likelihood")) == {"pixelcnn"}
    assert {"context_encoder", "pixelcnn"} <= set(kinds_that("fills_holes"))
    assert set(kinds_that("reads")) == {"classifier"}
    with pytest.raises(ValueError, match="unknown ability"):
        kinds_that("flies")

    class Toy(models.AE):
        abilities = frozenset({"exact_likelihood"})

    # A new family is one registry line: the pickers that ask for its ability list it, nothing else changes.
    monkeypatch.setitem(FAMILIES, "toy", models.AEFamily("toy", Toy))
    assert "toy" in kinds_that("exact_likelihood") and "toy" not in kinds_that("encodes")


def test_every_ability_a_model_declares_is_a_known_one():
    for kind, family in FAMILIES.items():
        assert family.model_class.abilities <= set(ABILITIES), kind
        model = family.build(family.options(), 10)
        assert {a for a in ABILITIES if model.can(a)} >= family.model_class.abilities, kind


def test_variants_are_their_familys_declaration_with_other_defaults():
    assert FAMILIES["dae"].build(FAMILIES["dae"].options(), 10).kind == "dae"
    assert FAMILIES["cgan"].build(FAMILIES["cgan"].options(), 10).kind == "cgan"
    assert FAMILIES["wgan-gp"].build(FAMILIES["wgan-gp"].options(), 10).kind == "wgan-gp"
    assert type(FAMILIES["cgan"]) is type(FAMILIES["gan"])
    assert models.build("dae", {}).config.noise_level == 0.5, "a config without the key takes the variant's default"


def test_option_limits_are_checked_with_the_flag_in_the_message():
    @dataclasses.dataclass
    class Options:
        steps: int = option(10, "how many", low=1, high=100)
        sampler: str = option("a", "which", choices=("a", "b"))
        weight: float | None = option(None, "how much", low=0.0, high=1.0)

    check(Options())
    for bad, message in [(dict(steps=0), r"steps \(--steps\) must be from 1 to 100"),
                         (dict(steps=2.5), "whole number"), (dict(sampler="c"), "one of a, b"),
                         (dict(weight=float("nan")), "finite"), (dict(weight=True), "finite number")]:
        with pytest.raises(ValueError, match=message):
            check(Options(**bad))
    assert Family("plain", models.AE).Options is NoOptions


def test_the_train_form_reads_typed_numbers_and_an_empty_box_means_the_default():
    """The form's number boxes are text (an empty box must stay empty: Gradio's Number shows and sends 0 for none,
    which would have trained a context encoder's L2-only twin when the paper's weight was meant)."""
    assert form_settings("gan", {"latent_dim": " 64 ", "width": "", "conditional": True,
                                 "class_loss_weight": " "}) == {"latent_dim": 64, "conditional": True}
    assert form_settings("context", {"adversarial_weight": "", "bottleneck": "unet"}) == {"bottleneck": "unet"}
    with pytest.raises(ValueError, match="latent dim must be a whole number"):
        form_settings("vae", {"latent_dim": "2.5"})
    with pytest.raises(ValueError, match="beta must be a number"):
        form_settings("vae", {"beta": "lots"})
    from genexplorer.ui import training

    shown = {name: update.get("value") for name, update in zip(OPTION_NAMES, training.on_family("gan")[1:])}
    assert shown["width"] == "" and shown["latent_dim"] == "100", "the GAN's own defaults, an empty box for none"
