#!/usr/bin/env bash
# How the shipped checkpoints were trained (CPU, 2 cores: two queues of one thread each).
#   bash tools/train_shipped.sh encoders   # AE, VAE, 2-d AE/VAE, DAE, CVAE for both datasets
#   bash tools/train_shipped.sh gans       # the DCGAN for both datasets
#   bash tools/train_shipped.sh classifiers  # the CNN classifier for both datasets (the benchmark's reader)
#   bash tools/train_shipped.sh pixelcnn   # the PixelCNN for both datasets
#   bash tools/train_shipped.sh iterative  # the class-guided diffusion models and flows (U-Net, 32 channels)
#   bash tools/train_shipped.sh zoo        # PCA-16, dense, overcomplete and sparse AEs for both datasets
#   bash tools/train_shipped.sh cgans      # the class-conditional GAN for both datasets (projection D + auxiliary classifier)
#   bash tools/train_shipped.sh image-to-image  # the context encoders (U-Net) and pix2pix, each with its L2 / L1-only twin
#   bash tools/train_shipped.sh gan-dynamics  # DCGAN, WGAN, WGAN-GP on the digits, 20 epochs each, logs only
#                                             # (runs/gan-dynamics/): the benchmark's losses-vs-pictures table
# Add --device cuda to ARGS on a GPU machine; everything else stays the same.
set -euo pipefail
cd "$(dirname "$0")/.."
ARGS=${ARGS:-"--threads 1 --device auto --seed 0 --overwrite"}
train() { python -m genexplorer.train $ARGS "$@"; }

case "${1:-all}" in
  encoders|all)
    for dataset in mnist fashion; do
      if [ "$dataset" = mnist ]; then epochs=40; else epochs=10; fi
      if [ "$dataset" = mnist ]; then
        # one residual block per resolution, each digit varied anew (shift, turn, scale), 100 epochs on a cosine rate:
        # reconstructions read right 97.2 % (the test digits themselves 98.2 %; the small net, 40 epochs: 93.8 %)
        train --model ae --dataset $dataset --latent-dim 16 --blocks 1 --augment geometry --epochs 100 \
          --lr-schedule cosine --out checkpoints/$dataset-ae
      else
        train --model ae --dataset $dataset --latent-dim 16 --epochs $epochs --out checkpoints/$dataset-ae
      fi
      if [ "$dataset" = mnist ]; then
        train --model vae  --dataset $dataset --latent-dim 16 --epochs $epochs --out checkpoints/$dataset-vae
      else   # a 32-d code, 20 epochs on a cosine learning rate: -ELBO 239.3 (16-d, 10 epochs: 240.5)
        train --model vae  --dataset $dataset --latent-dim 32 --epochs 20 --lr-schedule cosine --out checkpoints/$dataset-vae
      fi
      train --model ae   --dataset $dataset --latent-dim 2  --epochs $epochs --out checkpoints/$dataset-ae2d
      train --model vae  --dataset $dataset --latent-dim 2  --epochs $epochs --out checkpoints/$dataset-vae2d
      if [ "$dataset" = mnist ]; then
        # a 128-d code (3 dB over a median filter at sigma 0.3) and a 4-d one with beta 3 (every class drawn >= 96 %)
        train --model dae  --dataset $dataset --latent-dim 128 --epochs 100 --lr-schedule cosine --noise mixed \
          --noise-level 0.5 --out checkpoints/$dataset-dae
        train --model cvae --dataset $dataset --latent-dim 4 --beta 3 --epochs 60 --lr-schedule cosine --out checkpoints/$dataset-cvae
      else
        train --model dae  --dataset $dataset --latent-dim 16 --epochs $epochs --noise mixed --noise-level 0.5 --out checkpoints/$dataset-dae
        # the class at every decoder layer, 20 epochs on a cosine rate: the asked class 82.0 % -> 85.5 % of samples
        train --model cvae --dataset $dataset --latent-dim 16 --epochs 20 --lr-schedule cosine --class-every-layer \
          --out checkpoints/$dataset-cvae
      fi
    done ;;&
  gans|all)
    train --model gan --dataset mnist   --epochs 60 --batch-size 64 --out checkpoints/mnist-gan
    train --model gan --dataset fashion --epochs 10 --batch-size 64 --lr-schedule cosine --ema 0.999 --out checkpoints/fashion-gan
    # then a second cosine cycle from half the rate (Frechet distance 32.6 -> 23.5 at 10,000 samples)
    train --model gan --dataset fashion --epochs 20 --batch-size 64 --lr 1e-4 --lr-schedule cosine --ema 0.999 --resume --out checkpoints/fashion-gan
    # and a third from a quarter of it (23.5 -> 19.9)
    train --model gan --dataset fashion --epochs 30 --batch-size 64 --lr 5e-5 --lr-schedule cosine --ema 0.999 --resume --out checkpoints/fashion-gan
    ;;&
  classifiers|all)
    # the digits' reader also reads people's drawings: the font digits (assets/font_digits.npz, built by
    # tools/make_font_digits.py) join the 4,500, every picture varied as handwriting varies (94.6 % of
    # tests/data/handwriting.npz read right; trained on the 4,500 alone: 84.4 %)
    train --model classifier --dataset mnist   --epochs 60 --width 64 --font-digits --augment handwriting \
      --out checkpoints/mnist-classifier
    train --model classifier --dataset fashion --epochs 15 --out checkpoints/fashion-classifier
    ;;&
  pixelcnn|all)
    # The family's defaults (issue 25): 8 gated layers of 64 channels, kernel 3 dilated 1, 2, 4, 8, 1, 2, 4, 8 (the
    # last pixel sees the whole picture), 256 grey levels as a mixture of 5 logistics (PixelCNN++) beside the
    # Bernoulli reading (the VAE's nats). A training step costs 2.2x the old model's (interleaved on one thread), so
    # about 15 images/s: the digits ~5.5 min an epoch (30: ~2.7 h), Fashion ~66 min an epoch (3: ~3.3 h), one core
    # each; --resume finishes a cut run. (Before: --width 32, 8 undilated layers of kernel 5, Bernoulli pixels, 30 and
    # 3 epochs at batch 64.)
    # As shipped: the digits 14 epochs on a 30-epoch cosine, then --resume --epochs 22 (a 22-epoch cosine, to fit a
    # session); the line below is that run in one go (its first 14 epochs at a slightly lower rate). Fashion: two
    # epochs of the 60,000 (1,875 steps each), each its own cosine cycle (--resume starts a new one): 1h56m and 1h22m
    # on one thread shared with a bench; test -log p(x) 208.9 -> 207.4 nats (Bernoulli reading).
    train --model pixelcnn --dataset mnist   --epochs 22 --batch-size 32 --dropout 0.1 --lr-schedule cosine \
      --out checkpoints/mnist-pixelcnn
    train --model pixelcnn --dataset fashion --epochs 1  --batch-size 32 --lr-schedule cosine --out checkpoints/fashion-pixelcnn
    train --model pixelcnn --dataset fashion --epochs 2  --batch-size 32 --lr-schedule cosine --resume \
      --out checkpoints/fashion-pixelcnn
    # Then epochs 3-5 as one run, the cosine resumed at 2/5 of its curve down to 0: two threads with nothing else
    # running, ~40 images/s, 25 min an epoch (1h53m with the evaluations and a test suite beside it for 20 min).
    # Resumed here from the shipped weights with a fresh Adam (the epoch-2 optimiser state went with an earlier
    # machine). Frechet distance (1,000 samples, seed 0): 75.3 after epoch 2, 65.0 / 65.2 / 54.1 after 3 / 4 / 5.
    ARGS="${ARGS/--threads 1/--threads 2}" train --model pixelcnn --dataset fashion --epochs 5 --batch-size 32 \
      --lr-schedule cosine --judge-every 10 --resume --out checkpoints/fashion-pixelcnn
    ;;&
  iterative|all)
    # A 32-channel U-Net with attention at 7x7, told the class (dropped 10 % of the time: classifier-free guidance),
    # weights averaged (--ema), batch 128. One thread: ~30 digits/s, so ~2.5 min an epoch of the 4,500 digits and
    # ~8-30 min an epoch of Fashion's 60,000 (faster on an idle core); --resume finishes a cut run on the same curve.
    # The shipped digits' diffusion: 39 epochs at a constant rate, then --resume --epochs 50 --lr-schedule cosine.
    train --model diffusion --dataset mnist   --epochs 50 --batch-size 128 --lr 5e-4 --lr-schedule cosine --ema 0.999 \
      --judge-every 10 --out checkpoints/mnist-diffusion
    train --model diffusion --dataset fashion --epochs 16 --batch-size 128 --lr 5e-4 --lr-schedule cosine --ema 0.9995 \
      --judge-every 4 --out checkpoints/fashion-diffusion
    train --model flow      --dataset mnist   --epochs 40 --batch-size 128 --lr 1e-3 --lr-schedule cosine --ema 0.999 \
      --judge-every 10 --out checkpoints/mnist-flow
    train --model flow      --dataset fashion --epochs 8  --batch-size 128 --lr 1e-3 --lr-schedule cosine --ema 0.9995 \
      --judge-every 4 --out checkpoints/fashion-flow
    ;;&
  zoo|all)
    for dataset in mnist fashion; do
      if [ "$dataset" = mnist ]; then epochs=40; else epochs=10; fi
      train --model pca --dataset $dataset --latent-dim 16 --out checkpoints/$dataset-pca
      train --model ae --dataset $dataset --architecture dense --hidden 512 --latent-dim 16 --epochs $epochs \
        --out checkpoints/$dataset-ae-dense
      train --model ae --dataset $dataset --architecture dense --hidden 0 --latent-dim 1024 --code-activation relu \
        --epochs $epochs --out checkpoints/$dataset-ae-over
      train --model ae --dataset $dataset --architecture dense --hidden 0 --latent-dim 1024 --code-activation relu \
        --l1 0.5 --epochs $epochs --out checkpoints/$dataset-ae-sparse
    done ;;&
  cgans|all)
    # the shipped ones: stopped after epochs 35 and 4 (their classes read right by then) and finished there with
    # --resume --epochs N, then stored as float16 by tools/ship.py --half; from scratch these commands give the same
    train --model cgan --dataset mnist   --epochs 35 --batch-size 64 --out checkpoints/mnist-cgan
    train --model cgan --dataset fashion --epochs 4  --batch-size 64 --class-loss-weight 3 --out checkpoints/fashion-cgan
    ;;&
  image-to-image|all)
    for dataset in mnist fashion; do
      # The shipped context encoders: a constant rate for 60 (7) epochs, then 20 (4) more on a cosine one
      # (the Fashion ones: 3 epochs, then --resume --epochs 7, then --resume --epochs 11 --lr-schedule cosine).
      if [ "$dataset" = mnist ]; then epochs=60; more=80; p2p=20; else epochs=7; more=11; p2p=5; fi
      for weight in 0.001 0; do
        name=$dataset-context; [ "$weight" = 0 ] && name=$dataset-context-l2
        train --model context --bottleneck unet --width 32 --adversarial-weight $weight --dataset $dataset \
          --epochs $epochs --out checkpoints/$name
        train --model context --dataset $dataset --resume --epochs $more --lr-schedule cosine --out checkpoints/$name
      done
      train --model pix2pix --dataset $dataset --epochs $p2p --batch-size 64 --out checkpoints/$dataset-pix2pix
      train --model pix2pix --dataset $dataset --epochs $p2p --batch-size 64 --adversarial-weight 0 \
        --out checkpoints/$dataset-pix2pix-l1
    done ;;&
  gan-dynamics)
    for model in gan wgan wgan-gp; do
      train --model $model --dataset mnist --epochs 20 --batch-size 64 \
        --out runs/gan-dynamics/mnist-$model --log-dir runs/gan-dynamics/mnist-$model-log
    done
    ;;
esac
