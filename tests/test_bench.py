"""`python -m genexplorer.bench --quick` (what CI runs so the benchmark never rots): it runs
and writes every table, well formed. Speeds are never asserted: this machine is shared."""
import os
import re

import pytest

from genexplorer.devtools import bench, quality

SPEED_TABLES = ["Per model (in-process, one thread)", bench.HANDLER_TITLE, "Start-up",
                "Through the running app (gradio_client, each client its own session)"]
QUALITY_TABLES = [title for title, _ in quality.TABLES.values()] + ["Training speed (CPU, one thread, batch 128)"]


def tables_of(report: str) -> dict[str, list[list[str]]]:
    """Markdown report -> {heading: rows of cells}, the header row included."""
    out, heading = {}, None
    for line in report.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.startswith("|") and heading is not None and not re.fullmatch(r"\|(---\|)+", line):
            out.setdefault(heading, []).append([cell.strip() for cell in line.strip("|").split("|")])
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "BENCHMARKS.md"
    assert bench.main(["--quick", "--no-browser", "--out", str(out)]) == 0
    return out.read_text()


def test_quick_bench_writes_every_table_well_formed(report):
    assert "Command: `python -m genexplorer.bench --quick --no-browser`" in report
    assert re.search(r"Date: \d{4}-\d\d-\d\d", report) and "Machine: " in report
    tables = tables_of(report)
    for title in SPEED_TABLES + QUALITY_TABLES:
        assert title in tables, f"missing table {title!r}"
        header, *rows = tables[title]
        assert rows, f"table {title!r} has no rows"
        assert all(len(row) == len(header) for row in rows), f"ragged table {title!r}"
        assert all(all(cell != "nan" for cell in row) for row in rows)


def test_speed_tables_cover_every_model_and_endpoint(report):
    from genexplorer.explore import ModelCache

    tables = tables_of(report)
    assert {row[0] for row in tables["Per model (in-process, one thread)"][1:]} == set(ModelCache().names())
    handlers = [row[0] for row in tables[bench.HANDLER_TITLE][1:]]
    assert len(handlers) == 3 and all(float(row[2]) > 0 for row in tables[bench.HANDLER_TITLE][1:]), handlers
    api = [row[0] for row in tables["Through the running app (gradio_client, each client its own session)"][1:]]
    for endpoint in ("/slide", "/draw", "/interpolate"):
        assert f"{endpoint}, 1 client at once" in api and f"{endpoint}, 10 clients at once" in api
    assert not any("errors" in row for row in api), api


def test_quick_numbers_say_they_are_reduced(report):
    for title in QUALITY_TABLES:
        section = report.split(title, 1)[1].split("\n#", 1)[0]
        assert "QUICK RUN, reduced" in section, title


def test_quality_tables_cover_both_datasets_and_every_method(report):
    tables = tables_of(report)
    assert {row[0] for row in tables["Classifier: test accuracy"][1:]} == {"mnist", "fashion"}
    for row in tables["Classifier: test accuracy"][1:]:
        assert re.fullmatch(r"\d+\.\d%", row[2])
    methods = {row[1] for row in tables["Reconstruction"][1:]}
    assert {"mnist-ae", "mnist-dae", "mnist-vae", "mnist-cvae", "PCA, 16 components", "pytorch/examples VAE"} <= methods
    likelihood = {row[1] for row in tables["Likelihood (nats per image)"][1:]}
    assert {"mnist-vae", "mnist-cvae", "fashion-vae", "fashion-cvae", "pytorch/examples VAE"} <= likelihood
    samples = tables["Samples"]
    assert {"mnist-vae", "mnist-cvae", "mnist-gan", "fashion-gan"} <= {row[1] for row in samples[1:]}
    assert any(row[1].startswith("floor") for row in samples[1:])
    cvae = next(row for row in samples[1:] if row[1] == "mnist-cvae")
    assert cvae[-2].endswith("%"), "the CVAE's agreement with the requested class"
    assert re.fullmatch(r".+ \(\d+\.\d%\)", cvae[-1]), "and the class it draws worst"
    noises = {row[1] for row in tables["Denoising"][1:]}
    assert noises == {"gaussian 0.1", "gaussian 0.3", "gaussian 0.5", "salt_pepper 0.2", "masking 0.5"}
    assert {"noisy input", "median 3x3", "mnist-ae", "mnist-dae", "mnist-vae"} <= {row[2] for row in tables["Denoising"][1:]}
    inpainting = {(row[1], row[2]) for row in tables["Inpainting"][1:]}
    assert {(hole, method) for hole in ("centred 14x14 hole", "bottom half missing")
            for method in ("mnist-vae", "mnist-ae", "mean image")} <= inpainting
    assert {row[0] for row in tables["Training: our VAE against the pytorch/examples VAE"][1:]} >= {"mnist"}
    assert {row[0] for row in tables["Training speed (CPU, one thread, batch 128)"][1:]} == {
        "ae", "dae", "vae", "cvae", "gan", "classifier"}


def test_the_pixelcnn_section_has_every_table_for_both_datasets(report):
    section = report.split(bench.PIXELCNN_BEGIN, 1)[1].split(bench.PIXELCNN_END, 1)[0]
    tables = tables_of(section)
    for title, columns in quality.AUTOREGRESSIVE_TABLES.values():
        header, *rows = tables[title]
        assert header == columns and rows and all(len(row) == len(header) for row in rows), title
        assert {row[0] for row in rows} == {"mnist", "fashion"}, title
        assert "QUICK RUN, reduced" in section.split(title, 1)[1].split("\n#", 1)[0]
    exact = tables[quality.AUTOREGRESSIVE_TABLES["exact"][0]][1:]
    assert all(float(row[2]) > 0 and float(row[3]) > 0 for row in exact)
    holes = {row[1] for row in tables["PixelCNN completion (inpainting)"][1:]}
    assert holes == {"centred 14x14 hole", "bottom half missing"}
    samplers = {row[1].split(" ")[0] for row in tables["PixelCNN samples"][1:]}
    assert samplers == {"mnist-gan", "mnist-pixelcnn", "fashion-gan", "fashion-pixelcnn"}, "the GAN: the yardstick"


def test_the_ganlab_section_has_every_lesson_loss_and_the_correlation_table(report):
    from genexplorer import toy

    section = report.split(bench.GANLAB_BEGIN, 1)[1].split(bench.GANLAB_END, 1)[0]
    tables = tables_of(section)
    lessons = next(rows for title, rows in tables.items() if title.startswith("GAN lab lessons"))
    assert [row[0] for row in lessons[1:]] == list(toy.PRESETS)
    assert all(float(row[4]) > 0 and float(row[5]) > 0 for row in lessons[1:])
    speed = tables["GAN lab toy speed (one thread)"]
    assert {row[1] for row in speed[1:]} == set(toy.TOY_LOSSES)
    assert any(title.startswith("Do the losses follow the pictures?") for title in tables) or "not measured" in section


def test_the_zoo_section_measures_every_zoo_model_on_both_datasets(report):
    from genexplorer import zoo

    section = report.split(bench.ZOO_BEGIN, 1)[1].split(bench.ZOO_END, 1)[0]
    (title, rows), = [(t, r) for t, r in tables_of(section).items() if t.startswith("The autoencoder zoo")]
    assert {row[1] for row in rows[1:]} == {f"{d}-{role} ({name})" for d in ("mnist", "fashion") for role, name in zoo.ZOO}
    assert all(float(row[4]) > 10 for row in rows[1:]), "every zoo model rebuilds the test images"
    sparse = [row for row in rows[1:] if "sparse" in row[1]]
    assert all(int(row[-1].split(" of ")[0]) < 1024 for row in sparse)


def test_the_image_to_image_section_has_every_filler_and_hole_and_the_translations(report):
    from genexplorer.devtools import imagetoimage

    section = report.split(bench.IMAGE_TO_IMAGE_BEGIN, 1)[1].split(bench.IMAGE_TO_IMAGE_END, 1)[0]
    tables = tables_of(section)
    (inpainting,) = [rows for title, rows in tables.items() if title.startswith("Inpainting: every filler")]
    for dataset in ("mnist", "fashion"):
        for _, hole in imagetoimage.HOLES:
            methods = {row[2] for row in inpainting[1:] if row[0] == dataset and row[1] == hole}
            assert "mean image" in methods and "VAE (code optimisation)" in methods, (dataset, hole)
            if dataset == "mnist":
                assert {title for _, title in imagetoimage.FILLERS} <= methods
    assert all(0 < float(row[4]) < 60 for row in inpainting[1:] if row[4])
    (translation,) = [rows for title, rows in tables.items() if title.startswith("Sketch to picture")]
    rows = {(row[0], row[1]) for row in translation[1:]}
    for dataset in ("mnist", "fashion"):
        assert {(dataset, "the test pictures themselves"), (dataset, "pix2pix (L1 + adversarial) from their edges"),
                (dataset, "pix2pix, L1 only from their edges")} <= rows
    assert all(float(row[-1]) > 0 for row in translation[1:])


def test_the_correlation_table_reads_real_run_logs(tmp_path):
    """Per-epoch losses against the per-epoch Frechet distance, from the train CLI's progress.jsonl."""
    import json

    from genexplorer.devtools import gandynamics

    wgan, gan = tmp_path / "wgan-log", tmp_path / "gan-log"
    for folder, records in ((wgan, [{"epoch": e, "test_frechet": 100 - 10 * e, "train_d_loss": -1 + 0.1 * e,
                                     "train_w_estimate": 1 - 0.1 * e} for e in range(1, 6)]),
                            (gan, [{"epoch": e, "test_frechet": 100 - 10 * e, "train_d_loss": 1.2 + 0.01 * (-1) ** e,
                                    "train_g_loss": 0.8} for e in range(1, 6)])):
        folder.mkdir()
        (folder / "progress.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    table = gandynamics.correlation_table({"wgan": wgan, "gan": gan, "missing": tmp_path / "nope"})
    rows = {(row[0], row[3]): row for row in table.rows}
    assert rows[("wgan", "d_loss")][5] == pytest.approx(-1.0) and rows[("wgan", "w_estimate")][5] == pytest.approx(1.0)
    assert rows[("wgan", "d_loss")][2] == "90.0 / 50.0 / 50.0"
    assert ("gan", "g_loss") in rows and rows[("gan", "g_loss")][5] != rows[("gan", "g_loss")][5], "constant: no r (NaN)"
    assert any("missing: not measured" in note for note in table.notes)


def test_only_pixelcnn_replaces_its_section_and_keeps_the_rest(tmp_path, monkeypatch):
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(f"# kept\n\n{bench.PIXELCNN_BEGIN}\nold\n{bench.PIXELCNN_END}\n\n## also kept\n")
    monkeypatch.setattr(bench, "pixelcnn_section",
                        lambda **_: f"{bench.PIXELCNN_BEGIN}\nnew\n{bench.PIXELCNN_END}")
    assert bench.main(["--only", "pixelcnn", "--out", str(out)]) == 0
    assert out.read_text() == f"# kept\n\n{bench.PIXELCNN_BEGIN}\nnew\n{bench.PIXELCNN_END}\n\n## also kept\n"


def test_only_startup_replaces_the_start_up_section_with_its_own_command_and_keeps_the_rest(tmp_path, monkeypatch):
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(f"# kept\n\n{bench.STARTUP_BEGIN}\n## Start-up\n\nold\n{bench.STARTUP_END}\n\n## also kept\n")
    runs = []
    monkeypatch.setattr(bench, "startup_speed", lambda n: runs.append(n) or [
        (bench.PAGE_ROW, {"n": n, "median": 2500.0, "p95": 2600.0}),
        (bench.READY_ROW, {"n": n, "median": 2700.0, "p95": 2900.0})])
    assert bench.main(["--only", "startup", "--quick", "--out", str(out)]) == 0
    text = out.read_text()
    assert runs == [1] and text.startswith("# kept\n\n") and text.endswith(f"{bench.STARTUP_END}\n\n## also kept\n")
    section = text.split(bench.STARTUP_BEGIN, 1)[1].split(bench.STARTUP_END, 1)[0]
    assert "old" not in section and "Command: `python -m genexplorer.bench --only startup --quick`" in section
    assert "load average" in section
    rows = tables_of(section)["Start-up"]
    assert rows[1] == [bench.PAGE_ROW, "1", "2500.0", "2600.0"] and rows[2][0] == bench.READY_ROW


def test_classroom_traffic_is_answered_right(tmp_path):
    """The short classroom run: every kind of request a class sends is answered, each with the answer to
    that student's own request (never asserting a speed)."""
    out = tmp_path / "BENCHMARKS.md"
    assert bench.main(["--classroom", "--quick", "--out", str(out)]) == 0
    section = out.read_text().split(bench.CLASSROOM_BEGIN, 1)[1].split(bench.CLASSROOM_END, 1)[0]
    assert "**0 answers belonged to another student**" in section
    rows = tables_of(section)["A class at once (browser-like traffic)"][1:]
    kinds = {row[1] for row in rows if row[0] == "3"}
    assert kinds == {"live draw", "live slide", "draw event", "slide event"}, kinds
    with_labs = {row[1] for row in rows if row[0] == "3 + 1 GAN labs"}
    assert with_labs == kinds | {"GAN lab frame"}, with_labs
    assert {row[1] for row in rows if row[0] == "3, again"} == kinds, "the largest class runs a second time"
    assert all(row[6] == "0" for row in rows), rows     # nothing wrong or failed
    assert all(int(row[2]) > 0 for row in rows)
    assert all(re.fullmatch(r"\d+ -> \d+", row[8]) for row in rows), "app memory before and after each class"


def test_a_students_answer_counts_as_theirs_within_one_grey_level_and_never_as_a_neighbours():
    import numpy as np

    from genexplorer.devtools.classroom import same_answer
    from genexplorer.images import png_bytes

    mine = png_bytes(np.full((28, 28), 100, np.uint8))
    rounded = np.full((28, 28), 100, np.uint8)
    rounded[3, 4] = 101                               # one pixel rounded the other way in a batch
    neighbours = png_bytes(np.full((28, 28), 140, np.uint8))
    assert same_answer(mine, mine) and same_answer(png_bytes(rounded), mine)
    assert not same_answer(neighbours, mine) and not same_answer(b"not a picture", mine)


def test_only_quality_replaces_the_quality_tables_with_their_own_command_and_keeps_the_rest(tmp_path, monkeypatch):
    """After a retrain, `--only quality` rewrites the quality and training tables between their markers."""
    out = tmp_path / "BENCHMARKS.md"
    out.write_text(f"# speed, kept\n\n{bench.QUALITY_BEGIN}\nold tables\n{bench.QUALITY_END}\n\n## pixelcnn, kept\n")
    monkeypatch.setattr(bench, "quality_sections", lambda **_: ["## Quality\n\nintro", "### table\n\n| a |"])
    assert bench.main(["--only", "quality", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# speed, kept\n\n") and text.endswith(f"{bench.QUALITY_END}\n\n## pixelcnn, kept\n")
    section = text.split(bench.QUALITY_BEGIN, 1)[1].split(bench.QUALITY_END, 1)[0]
    assert "old tables" not in section and "### table" in section
    assert section.index("## Quality") < section.index("Command: `python -m genexplorer.bench --only quality`")


def test_the_diffusion_section_finds_the_models_by_ability_and_fills_every_table(tmp_path, monkeypatch):
    """Two tiny untrained models in a run folder (what --models measures before shipping): every table has
    their rows beside the shipped GAN's, the classifier's yardstick and the context encoder's."""
    import torch

    from genexplorer import checkpoints
    from genexplorer.devtools import iterative_bench
    from genexplorer.models import family

    for kind in ("diffusion", "flow"):
        torch.manual_seed(0)
        declared = family(kind)
        model = declared.build(declared.options(width=8), 10)
        model.dataset, model.class_names = "mnist", [str(c) for c in range(10)]
        checkpoints.save(model, tmp_path / f"mnist-{kind}")
    monkeypatch.setattr(iterative_bench, "FIRST_SAMPLER_STEPS", (3, 2, 1))
    monkeypatch.setattr(iterative_bench, "GUIDED_STEPS", 2)
    monkeypatch.setattr(iterative_bench, "SPEED_STEPS", 2)
    text = iterative_bench.section(quick=True, root=str(tmp_path), log=lambda m: None, counts=(20, 1, 4, 1))
    tables = tables_of(text)
    samples = next(rows for title, rows in tables.items() if title.startswith("mnist: samples"))
    assert {row[0] for row in samples[1:]} == {"mnist-gan", "mnist-diffusion", "mnist-flow"}
    assert {(row[1], row[2]) for row in samples[1:] if row[0] == "mnist-flow"} == {
        ("euler", "3"), ("euler", "2"), ("euler", "1"), ("heun", "50"), ("heun", "10")}
    guided = next(rows for title, rows in tables.items() if title.startswith("mnist: guided"))
    assert guided[1][0].startswith("real test pictures") and len(guided) == 2 + 2 * len(iterative_bench.GUIDANCE)
    holes = next(rows for title, rows in tables.items() if title.startswith("mnist: the centre"))
    assert {row[0] for row in holes[1:]} == {"mnist-diffusion", "mnist-flow", "mnist-context"}
    speed = next(rows for title, rows in tables.items() if title.startswith("mnist: 16 samples"))
    threads = sorted({1, os.cpu_count()})
    assert [(row[0], row[2], row[3]) for row in speed[1:1 + len(threads)]] == [
        ("mnist-diffusion", "0.000", str(count)) for count in threads]
    assert len(speed) == 1 + 4 * len(threads), "each conditional model unguided and guided, on 1 thread and every core"
    assert text.startswith(iterative_bench.BEGIN) and text.endswith(iterative_bench.END)
    assert text.count("<!-- diffusion mnist: begin -->") == 1 and "<!-- diffusion fashion" not in text
    # a shorter run: fewer samples a row (the GAN's too), one dataset, and the command says so
    shorter = iterative_bench.section(quick=True, root=str(tmp_path), log=lambda m: None, counts=(20, 1, 4, 1),
                                      samples_per_row=8, datasets=("mnist",))
    assert "--only diffusion --quick --models" in shorter and "--samples 8 --dataset mnist`" in shorter
    assert "mnist: samples, 8 per row" in shorter and "4 test pictures" in shorter
    with pytest.raises(SystemExit):
        bench.main(["--only", "diffusion", "--samples", "5"])


def test_one_dataset_s_diffusion_run_replaces_its_block_and_keeps_the_other_s(tmp_path, monkeypatch):
    """--dataset mnist rewrites the digits' tables alone: Fashion's, measured by an earlier run, stay."""
    from genexplorer.devtools import iterative_bench

    def block(dataset, **_):
        begin, end = iterative_bench.block_markers(dataset)
        return f"{begin}\n{dataset} measured now\n{end}"

    out = tmp_path / "BENCHMARKS.md"
    old = {dataset: block(dataset).replace("measured now", "measured before") for dataset in ("mnist", "fashion")}
    out.write_text(f"# kept\n\n{iterative_bench.section_head()}{old['mnist']}\n\n{old['fashion']}\n"
                   f"{iterative_bench.END}\n\n## after, kept\n")
    monkeypatch.setattr(iterative_bench, "dataset_block", block)
    assert bench.main(["--only", "diffusion", "--dataset", "mnist", "--out", str(out)]) == 0
    text = out.read_text()
    assert "mnist measured now" in text and "fashion measured before" in text and "mnist measured before" not in text
    assert text.startswith("# kept\n\n") and text.endswith(f"{iterative_bench.END}\n\n## after, kept\n")
    # a file whose section has no blocks yet (or no section): the section is written with the one block
    out.write_text("# kept\n")
    assert bench.main(["--only", "diffusion", "--dataset", "fashion", "--out", str(out)]) == 0
    text = out.read_text()
    assert iterative_bench.BEGIN in text and "fashion measured now" in text and "mnist" not in text


def test_only_diffusion_browser_measures_both_datasets_walks_and_both_toy_lessons_and_keeps_the_rest(tmp_path,
                                                                                                  monkeypatch):
    from genexplorer.toy import FEW_STEPS_LESSON

    out = tmp_path / "BENCHMARKS.md"
    out.write_text(f"# kept\n\n{bench.DIFFUSION_BROWSER_BEGIN}\nold\n{bench.DIFFUSION_BROWSER_END}\n\n## also kept\n")
    calls = []
    monkeypatch.setattr(bench, "walk_browser_speed", lambda runs, dataset: calls.append((runs, dataset)) or [
        (f"{dataset} walk frames", {"n": runs, "median": 12.0, "p95": 11.0})])
    monkeypatch.setattr(bench, "toy_walkers_browser_speed", lambda seconds, lessons: calls.append((seconds, lessons))
                        or [(f"toy {lesson}", {"n": seconds, "median": 15.0, "p95": 10.0}) for lesson in lessons])
    assert bench.main(["--only", "diffusion-browser", "--quick", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# kept\n\n") and text.endswith(f"{bench.DIFFUSION_BROWSER_END}\n\n## also kept\n")
    assert calls[:2] == [(2, "mnist"), (2, "fashion")] and FEW_STEPS_LESSON in calls[2][1]
    section = text.split(bench.DIFFUSION_BROWSER_BEGIN, 1)[1]
    assert "old" not in section and "`python -m genexplorer.bench --only diffusion-browser --quick`" in section
    rows = [row for rows in tables_of(section).values() for row in rows]
    assert ["mnist walk frames", "2", "12.0", "11.0"] in rows and any(row[0] == f"toy {FEW_STEPS_LESSON}" for row in rows)


def test_frame_rate_rows_drop_runs_without_a_rate_then_the_warm_up():
    from genexplorer.devtools.browser_bench import frame_rate_rows

    runs = [([5.0], 0.0),                          # one frame: no rate
            ([100.0, 2100.0], 0.0),                # the warm-up: 2 frames in 2 s, dropped
            ([50.0, 150.0, 250.0], 10.0),          # 10 frames a second, last frame 240 ms after the click
            ([50.0, 550.0], 0.0)]                  # 2 frames a second, last frame at 550 ms
    (rate_title, rate), (total_title, total) = frame_rate_rows("walk", "last frame", runs)
    assert rate_title.startswith("walk: frames painted per second (2 frames a run") and "click -> last frame" in total_title
    assert rate == {"n": 2, "median": 6.0, "p95": 2.0}
    assert total == {"n": 2, "median": 395.0, "p95": 550.0}
