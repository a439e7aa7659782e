"""The glossary, the Learn notes it points into, and lesson texts computed from the numbers shown (issue 24)."""
import re

import pytest

from genexplorer import glossary, lessons
from genexplorer.learn_notes import ALL_NOTES


def all_headings():
    return [glossary.plain(h) for note in ALL_NOTES for h in glossary.headings(note)]


def test_every_term_and_every_tab_points_at_a_learn_note_that_exists():
    headings = all_headings()
    assert len(headings) >= 12
    for note in [term.note for term in glossary.TERMS] + list(glossary.TAB_NOTES.values()):
        assert sum(h.startswith(note) for h in headings) == 1, note     # exactly one note starts so


def test_the_issue_s_words_are_all_explained():
    asked = ["PSNR", "SSIM", "nats", "ELBO", "KL", "W1", "JS", "|grad G|", "EMA", "Frechet distance"]
    terms = {term.term: term for term in glossary.TERMS}
    for word in asked:
        assert word in terms and len(terms[word].meaning) > 40, word


@pytest.mark.parametrize("text, found", [
    ("| model | error (MSE) | PSNR | classifier reads |", ["PSNR", "MSE"]),
    ("reconstruction 54.8 nats + KL 17.4 nats = 72.2 nats (the negative ELBO)", ["nats", "ELBO", "KL"]),
    ("GAN: step 10 · k 1 · W1 2.16 · JS 0.693 · |grad G| 0.01", ["W1", "JS", "|grad G|"]),
    ("(EMA decay, e.g. 0.999)", ["EMA"]),
    ("the Frechet distance of 1,000 samples", ["Frechet distance"]),
    ("JSON, KLM, PSNRs, EMAIL, nat", []),                    # whole words only
])
def test_terms_are_found_as_whole_words(text, found):
    assert sorted(glossary.terms_in(text)) == sorted(found)


def test_the_learn_contents_lists_every_note_in_order():
    from genexplorer.ui import learn

    contents = learn.contents_html()
    titles = re.findall(r'data-learn="([^"]+)"', contents)
    assert titles == [glossary.title(h) for note in ALL_NOTES for h in glossary.headings(note)]
    assert "Denoising AE" in titles and "Diffusion (DDPM, DDIM) and flow matching" in titles


@pytest.mark.parametrize("ae, dae, words", [
    (12.0, 16.4, "denoising AE scores **4.4 dB above** the plain AE"),
    (16.6, 15.7, "**plain AE scores higher**, by 0.9 dB"),
    (15.9, 15.7, "within 0.5 dB"),
])
def test_the_noise_lesson_says_what_the_scores_say(ae, dae, words):
    text = lessons.noise_lesson({"noisy input": 9.0, "AE": ae, "Denoising AE": dae, "VAE": 12.0})
    assert words in text and "gap grow" not in text


def test_the_noise_tab_s_lesson_agrees_with_its_own_table():
    """At masking 0.71 the plain AE can score level with or above the DAE: the lesson never claims otherwise."""
    from genexplorer import explore
    from genexplorer.ui import noise

    sides = set()
    for clean, _ in explore.examples("mnist", per_class=1, offset=3)[:6]:
        for level in (0.1, 0.71):
            table = noise.on_noise(clean, "mnist", "masking", level, 0)[-1]
            scores = dict(re.findall(r"\| (AE|Denoising AE) \| ([\d.]+) dB", table))
            gap = float(scores["Denoising AE"]) - float(scores["AE"])
            if gap >= lessons.CLOSE_DB:
                assert f"scores **{gap:.1f} dB above**" in table
                sides.add("dae")
            elif gap <= -lessons.CLOSE_DB:
                assert "plain AE scores higher" in table
            else:
                assert "within" in table
                sides.add("level")
    assert "dae" in sides
