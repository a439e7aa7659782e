"""Print the README's table of shipped checkpoints from their config.json files.

    python tools/checkpoint_table.py
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genexplorer.checkpoints import list_checkpoints, read_config  # noqa: E402


def main() -> None:
    print("| checkpoint | kind | latent | epochs | train images | training time (CPU) | test PSNR (dB) | "
          "test -ELBO (nats) | test -log p(x), exact (nats) | notes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in list_checkpoints(ROOT / "checkpoints"):
        config = read_config(ROOT / "checkpoints" / name)
        metrics, training = config["metrics"], config["training"]
        psnr = f"{metrics['test_psnr']:.1f}" if "test_psnr" in metrics and config["kind"] != "pix2pix" else ""
        elbo = f"{metrics['test_neg_elbo_nats']:.1f}" if "test_neg_elbo_nats" in metrics else ""
        exact = f"{metrics['test_nll_nats']:.1f}" if "test_nll_nats" in metrics else ""
        notes = []
        model_config = config["model_config"]
        if config["kind"] == "dae":
            notes.append(f"noise {model_config['noise']} up to {model_config['noise_level']}")
        if config["kind"] == "cgan":
            parts = (["projection D"] if model_config.get("projection") else ["class as D's input planes"]) + (
                [f"auxiliary classifier {model_config['class_loss_weight']:g}"] if model_config.get("class_loss_weight") else [])
            notes.append(", ".join(parts))
        if config["kind"] in ("gan", "cgan"):
            notes.append(f"last epoch: D(x) {metrics['train_d_real']:.2f}, D(G(z)) {metrics['train_d_fake']:.2f}"
                         + (f", Frechet distance of 1,000 samples {metrics['test_frechet']:.1f}" if "test_frechet" in metrics else ""))
        if config["kind"] == "pixelcnn":
            notes.append(f"{model_config['layers']} gated layers of {model_config['channels']} channels, "
                         f"kernel {model_config['kernel']}; no latent code")
        if config["kind"] in ("ae", "dae") and model_config.get("architecture") == "dense":
            hidden = model_config["hidden"]
            notes.append("dense, " + (f"784-{hidden}-code" if hidden else "one layer each way")
                         + (", ReLU code" if model_config.get("code_activation") == "relu" else "")
                         + (f", L1 {model_config['l1']:g}" if model_config.get("l1") else "")
                         + (", overcomplete" if model_config["latent_dim"] > 784 else ""))
        if config["kind"] == "pca":
            notes.append(f"closed form; {100 * metrics['explained_variance']:.1f}% of the variance")
        if config["kind"] == "context_encoder":
            weight = model_config["adversarial_weight"]
            notes.append(f"{model_config.get('bottleneck', 'dense')} bottleneck; "
                         f"centre 14x14 hole PSNR {metrics['test_hole_psnr']:.1f} dB; "
                         + (f"adversarial weight {weight:g}" if weight else "L2 only"))
        if config["kind"] == "pix2pix":
            weight = model_config["adversarial_weight"]
            notes.append(f"translations of the test edges: PSNR {metrics['test_psnr']:.1f} dB; "
                         + (f"adversarial weight {weight:g}, L1 {model_config['l1_weight']:g}" if weight else "L1 only"))
        if config["kind"] == "classifier":
            notes.append(f"test accuracy {100 * metrics['test_accuracy']:.1f}%")
        if config["kind"] in ("vae", "cvae") and model_config.get("beta", 1.0) != 1.0:
            notes.append(f"beta {model_config['beta']:g}")
        if model_config.get("blocks"):
            notes.append(f"{model_config['blocks']} residual block(s) per resolution")
        if model_config.get("class_every_layer"):
            notes.append("the class at every decoder layer")
        if training.get("font_digits"):
            notes.append("with the font digits")
        if training.get("augment"):
            notes.append(f"{training['augment']} variation")
        if training.get("lr_schedule", "constant") != "constant":
            notes.append(f"{training['lr_schedule']} learning rate")
        if training.get("ema"):
            notes.append(f"generator averaged (EMA {training['ema']:g})")
        if not config.get("complete", True):
            notes.append("INCOMPLETE")
        minutes = training.get("seconds", 0) / 60
        codeless = config["kind"] in ("pixelcnn", "pix2pix") or model_config.get("bottleneck", "dense") != "dense"
        latent = "" if codeless else model_config["latent_dim"]
        print(f"| {name} | {config['kind']} | {latent} | {config['epochs_done']} | "
              f"{training.get('num_train_images', '')} | {minutes:.0f} min | {psnr} | {elbo} | {exact} | {'; '.join(notes)} |")


if __name__ == "__main__":
    main()
