"""Print the README's table of shipped checkpoints from their config.json files.

    python tools/checkpoint_table.py
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genexplorer.checkpoints import list_checkpoints, read_config  # noqa: E402
from genexplorer.models import family  # noqa: E402


def main() -> None:
    print("| checkpoint | kind | latent | epochs | train images | training time (CPU) | test PSNR (dB) | "
          "test -ELBO (nats) | test -log p(x), exact (nats) | notes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in list_checkpoints(ROOT / "checkpoints"):
        config = read_config(ROOT / "checkpoints" / name)
        metrics, training, model_config = config["metrics"], config["training"], config["model_config"]
        declared = family(config["kind"])
        # a reconstruction's PSNR (pix2pix's test_psnr is its translations', in its notes)
        reconstructs = "encodes" in declared.model_class.abilities
        psnr = f"{metrics['test_psnr']:.1f}" if "test_psnr" in metrics and reconstructs else ""
        elbo = f"{metrics['test_neg_elbo_nats']:.1f}" if "test_neg_elbo_nats" in metrics else ""
        exact = f"{metrics['test_nll_nats']:.1f}" if "test_nll_nats" in metrics else ""
        notes = declared.checkpoint_notes(model_config, metrics) + run_notes(config)
        latent = declared.latent_size(model_config)
        minutes = training.get("seconds", 0) / 60
        print(f"| {name} | {config['kind']} | {'' if latent is None else latent} | {config['epochs_done']} | "
              f"{training.get('num_train_images', '')} | {minutes:.0f} min | {psnr} | {elbo} | {exact} | {'; '.join(notes)} |")


def run_notes(config: dict) -> list[str]:
    """What any family's run may have had: the font digits, picture variation, the schedule, the average."""
    training, notes = config["training"], []
    if training.get("font_digits"):
        notes.append("with the font digits")
    if training.get("augment"):
        notes.append(f"{training['augment']} variation")
    if training.get("lr_schedule", "constant") != "constant":
        notes.append(f"{training['lr_schedule']} learning rate")
    if training.get("ema"):
        averaged = family(config["kind"]).averaged or "weights"
        notes.append(f"{averaged} averaged (EMA {training['ema']:g})")
    if not config.get("complete", True):
        notes.append("INCOMPLETE")
    return notes

if __name__ == "__main__":
    main()
