"""The PixelCNN family: causal, exact likelihood, sampling and completion, and the live drawing jobs."""
import pytest
import torch

from genexplorer import checkpoints, pixels
from genexplorer.explore import ExploreError
from genexplorer.models import UnsupportedOperation, build
from genexplorer.models.pixelcnn import PixelCNN

TINY_PIXELCNN = {"channels": 8, "layers": 3}


def tiny(**extra) -> PixelCNN:
    torch.manual_seed(0)
    model = build("pixelcnn", {**TINY_PIXELCNN, **extra}).eval()
    model.dataset = "mnist"
    # Untrained weights give p near 1/2 everywhere; larger ones make every pixel matter.
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    return model


@pytest.mark.parametrize("kernel", [3, 5])
def test_output_at_a_pixel_ignores_that_pixel_and_every_later_one(kernel):
    model = tiny(kernel=kernel)
    torch.manual_seed(1)
    x = torch.rand(2, 1, 28, 28)
    base = model.logits(x).flatten(1)
    for position in (0, 1, 27, 28, 29, 300, 405, 783):
        changed = x.clone().flatten(1)
        changed[:, position:] = torch.rand(2, 784 - position)
        out = model.logits(changed.view(2, 1, 28, 28)).flatten(1)
        assert torch.allclose(out[:, : position + 1], base[:, : position + 1], atol=1e-5), position
        if position < 700:
            # ... while earlier pixels do inform it (the receptive field is not empty)
            earlier = x.clone().flatten(1)
            earlier[:, :position] = 1 - earlier[:, :position]
            if position > 0:
                moved = model.logits(earlier.view(2, 1, 28, 28)).flatten(1)[:, position]
                assert not torch.allclose(moved, base[:, position]), position


def test_no_blind_spot_above_right():
    """The gated PixelCNN's reason to exist: a pixel up and to the right still informs the output."""
    model = tiny()
    x = torch.rand(1, 1, 28, 28)
    target = (10, 10)
    base = model.logits(x)[0, 0, target[0], target[1]]
    above_right = x.clone()
    above_right[0, 0, target[0] - 1, target[1] + 2] = 1 - above_right[0, 0, target[0] - 1, target[1] + 2]
    assert model.logits(above_right)[0, 0, target[0], target[1]] != base


def test_nll_is_the_sum_of_the_per_pixel_terms_and_matches_bernoulli():
    model = tiny()
    x = torch.rand(3, 1, 28, 28)
    nll = model.nll(x)
    assert nll.shape == (3,)
    assert torch.allclose(nll, model.pixel_nll(x).flatten(1).sum(1), rtol=1e-5)
    # the same numbers from torch.distributions on binary pictures
    binary = (x > 0.5).float()
    reference = -torch.distributions.Bernoulli(logits=model.logits(binary)).log_prob(binary).flatten(1).sum(1)
    assert torch.allclose(model.nll(binary), reference, rtol=1e-5)


def test_exact_likelihood_sums_to_one_on_a_tiny_image_space():
    """Over every binary picture that differs only in its first 8 pixels, p sums to 1 for those pixels."""
    model = tiny()
    torch.manual_seed(2)
    rest = (torch.rand(1, 1, 28, 28) > 0.5).float()
    pictures = rest.repeat(256, 1, 1, 1).flatten(1)
    codes = torch.arange(256)
    for bit in range(8):
        pictures[:, bit] = ((codes >> bit) & 1).float()
    first8 = -model.pixel_nll(pictures.view(256, 1, 28, 28)).flatten(1)[:, :8].sum(1)
    assert torch.isclose(torch.logsumexp(first8, 0), torch.tensor(0.0), atol=1e-4)


def test_fast_sampling_draws_from_the_full_pass_probabilities():
    """Each drawn pixel used exactly the full network's probability: replaying the uniforms reproduces it."""
    model = tiny()
    sample = model.sample(3, generator=torch.Generator().manual_seed(5))
    assert sample.shape == (3, 1, 28, 28) and set(sample.unique().tolist()) <= {0.0, 1.0}
    # Naive sampler: a full pass per pixel with the same random stream.
    generator = torch.Generator().manual_seed(5)
    naive = torch.zeros(3, 1, 28, 28)
    for position in range(784):
        r, c = divmod(position, 28)
        p = torch.sigmoid(model.logits(naive)[:, :, r, c])
        naive[:, :, r, c] = torch.bernoulli(p, generator=generator)
    assert torch.equal(sample, naive)


def test_fast_completion_matches_a_full_pass_per_pixel():
    """Known rows above the hole and known pixels inside its rows, for a class-conditional model too."""
    for model, y in ((tiny(), None), (tiny(conditional=True), torch.tensor([3, 7]))):
        torch.manual_seed(3)
        x = (torch.rand(2, 1, 28, 28) > 0.6).float()
        known = torch.ones_like(x)
        known[:, :, 15:, 4:20] = 0
        known[1, :, 20, 8] = 1
        out = model.complete(x, known, y, generator=torch.Generator().manual_seed(9))
        generator = torch.Generator().manual_seed(9)
        naive = torch.where(known.bool(), x, torch.zeros_like(x))
        for position in range(784):
            r, c = divmod(position, 28)
            if known[:, 0, r, c].all():
                continue
            p = torch.sigmoid(model.logits(naive, y)[:, :, r, c])
            naive[:, :, r, c] = torch.where(known[:, :, r, c].bool(), naive[:, :, r, c],
                                            torch.bernoulli(p, generator=generator))
        assert torch.equal(out, naive)


def test_seeds_reproduce_and_differ():
    model = tiny()
    a = model.sample(2, generator=torch.Generator().manual_seed(1))
    b = model.sample(2, generator=torch.Generator().manual_seed(1))
    c = model.sample(2, generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_completion_keeps_known_pixels_and_fills_the_rest():
    model = tiny()
    x = torch.rand(2, 1, 28, 28)
    known = torch.ones_like(x)
    known[:, :, 14:] = 0
    known[:, :, 3, 5] = 0
    out = model.complete(x, known, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out[known.bool()], x[known.bool()])
    assert set(out[~known.bool()].unique().tolist()) <= {0.0, 1.0}
    different = model.complete(x, known, generator=torch.Generator().manual_seed(1))
    assert not torch.equal(out, different)


def test_conditional_pixelcnn_uses_the_class():
    model = tiny(conditional=True)
    x = torch.rand(2, 1, 28, 28)
    assert not torch.allclose(model.nll(x, torch.tensor([0, 0])), model.nll(x, torch.tensor([1, 1])))
    with pytest.raises(ValueError, match="class-conditional"):
        model.nll(x)


def test_bad_input_gets_clear_errors():
    model = tiny()
    with pytest.raises(ValueError, match="shape"):
        model.nll(torch.rand(2, 28, 28))
    with pytest.raises(ValueError, match="NaN"):
        model.nll(torch.full((1, 1, 28, 28), float("nan")))
    with pytest.raises(ValueError, match="mask"):
        model.complete(torch.rand(1, 1, 28, 28), torch.ones(1, 1, 14, 28))
    with pytest.raises(ValueError, match="NaN"):
        model.complete(torch.full((1, 1, 28, 28), float("nan")), torch.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match="between 1 and 1024"):
        model.sample(0)
    for method, args in (("encode", (torch.rand(1, 1, 28, 28),)), ("decode", (torch.zeros(1, 1),)),
                         ("reconstruct", (torch.rand(1, 1, 28, 28),))):
        with pytest.raises(UnsupportedOperation):
            getattr(model, method)(*args)


def test_save_load_round_trip(tmp_path):
    model = tiny()
    checkpoints.save(model, tmp_path / "mnist-pixelcnn", training={}, metrics={})
    loaded = checkpoints.load(tmp_path / "mnist-pixelcnn")
    x = torch.rand(2, 1, 28, 28)
    assert loaded.kind == "pixelcnn"
    assert torch.equal(loaded.nll(x), model.nll(x))


def test_training_lowers_the_nll():
    torch.manual_seed(0)
    model = build("pixelcnn", TINY_PIXELCNN)
    # Stripes: each pixel is predictable from the row above, so an autoregressive model learns them fast.
    x = torch.zeros(16, 1, 28, 28)
    x[:, :, ::2] = 1.0
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = float(model.loss(x)["loss"].detach())
    for _ in range(30):
        loss = model.loss(x)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(model.loss(x)["loss"].detach()) < first / 2


# ------------------------------------------------------------------ live jobs

def test_a_job_streams_frames_and_ends_on_the_models_own_sample():
    model = tiny()
    job = pixels.sample_job("tiny", model, 4, 7)
    frames = [job.advance(pixels=28)]
    assert frames[0].position == 28 and frames[0].drawn == 28 and not frames[0].finished
    assert frames[0].picture.shape[2] == 3
    while not frames[-1].finished:
        frames.append(job.advance(budget_s=0.01))
    assert frames[-1].drawn == 784 and frames[-1].position == 784
    assert [f.position for f in frames] == sorted(f.position for f in frames)
    expected = model.sample(4, generator=torch.Generator().manual_seed(7))
    assert torch.equal(torch.from_numpy(job.result()).float()[:, None] / 255, expected)


def test_completion_job_draws_only_the_hidden_pixels():
    model = tiny()
    x = torch.rand(1, 1, 28, 28)
    hidden = torch.zeros(1, 1, 28, 28, dtype=torch.bool)
    hidden[..., 20:, :] = True
    job = pixels.complete_job("tiny", model, x, hidden, 3, 0)
    first = job.advance(pixels=1)
    assert first.position == 20 * 28 + 1 and first.drawn == 1 and first.to_draw == 8 * 28
    job.run_to_end()
    result = torch.from_numpy(job.result()).float()[:, None] / 255
    assert torch.allclose(result[:, :, :20], (x[:, :, :20] * 255).round() / 255)


def test_job_bad_input_and_the_board_cap():
    model = tiny()
    x = torch.rand(1, 1, 28, 28)
    with pytest.raises(ExploreError, match="hides nothing"):
        pixels.complete_job("tiny", model, x, torch.zeros(1, 1, 28, 28), 2, 0)
    with pytest.raises(ExploreError, match="whole picture"):
        pixels.complete_job("tiny", model, x, torch.ones(1, 1, 28, 28), 2, 0)
    with pytest.raises(ExploreError, match="NaN"):
        pixels.complete_job("tiny", model, x * float("nan"), torch.ones(1, 1, 28, 28).tril().bool(), 2, 0)
    for count in (0, 37, float("nan"), "many"):
        with pytest.raises(ExploreError, match="number of pictures"):
            pixels.sample_job("tiny", model, count, 0)
    with pytest.raises(ExploreError, match="pace"):
        pixels.sample_job("tiny", model, 2, 0, pace="warp")
    with pytest.raises(ExploreError, match="not autoregressive"):
        pixels.sample_job("vae", build("vae", {"latent_dim": 2, "channels": 4, "hidden": 8}), 2, 0)
    board = pixels.JobBoard(max_active=2)
    first = board.add(pixels.sample_job("tiny", model, 1, 0))
    board.add(pixels.sample_job("tiny", model, 1, 0))
    with pytest.raises(ExploreError, match="limit is 2"):
        board.add(pixels.sample_job("tiny", model, 1, 0))
    # a user's new drawing replaces their previous one, so it is not refused
    board.add(pixels.sample_job("tiny", model, 1, 0), replaces=first.id)
    for bad in ("../../etc/passwd", 12, None, "0" * 16):
        with pytest.raises(ExploreError):
            board.get(bad)


def test_idle_jobs_expire():
    board = pixels.JobBoard(idle_expiry_s=0.0)
    job = board.add(pixels.sample_job("tiny", tiny(), 1, 0))
    with pytest.raises(ExploreError, match="expired"):
        board.get(job.id)


def test_the_board_computes_one_frame_at_a_time_whoever_asks(monkeypatch):
    """The CPU budget: however many threads ask for frames, at most one computes at a time."""
    import threading
    import time

    board = pixels.JobBoard()
    model = tiny()
    jobs = [board.add(pixels.sample_job("tiny", model, 2, seed)) for seed in range(4)]
    running, most = [0], [0]
    lock = threading.Lock()
    original = pixels.PixelJob.advance

    def counting(self, **kwargs):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        try:
            return original(self, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(pixels.PixelJob, "advance", counting)
    threads = [threading.Thread(target=lambda j=j: [board.advance(j.id) for _ in range(5)]) for j in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
