"""Lesson texts that state something measurable, computed from the numbers the page shows beside them.

A static sentence ("raise the level and watch the gap grow") can contradict the table next to it: at masking 0.71
the plain AE scored higher than the denoising AE. Here each sentence is made from the scores, so it holds.
"""
from __future__ import annotations

NOISE_INTRO = ("The denoising AE was trained to map corrupted inputs to clean ones; the plain AE only ever saw clean "
               "images, so it tends to copy the noise or break down.")
CLOSE_DB = 0.5     # PSNRs closer than this are called level


def noise_lesson(psnr: dict[str, float], *, plain: str = "AE", denoising: str = "Denoising AE",
                 noisy: str = "noisy input") -> str:
    """The Noise tab's lesson for one picture: {row title: PSNR in dB, as the table shows it} -> markdown.
    Says which of the two autoencoders cleans this picture better, and by how much, from the scores themselves."""
    if plain not in psnr or denoising not in psnr:
        return NOISE_INTRO
    ae, dae = psnr[plain], psnr[denoising]
    gap = dae - ae
    if gap >= CLOSE_DB:
        verdict = f"Here the denoising AE scores **{gap:.1f} dB above** the plain AE ({dae:.1f} against {ae:.1f} dB)"
    elif gap <= -CLOSE_DB:
        verdict = (f"Here the **plain AE scores higher**, by {-gap:.1f} dB ({ae:.1f} against {dae:.1f} dB): training "
                   "on noise does not win on every picture, kind and level")
    else:
        verdict = f"Here the two score within {CLOSE_DB} dB of each other ({dae:.1f} and {ae:.1f} dB)"
    if noisy in psnr:
        verdict += f"; the noisy input itself scores {psnr[noisy]:.1f} dB"
    return f"{NOISE_INTRO} {verdict}. Move the level, the noise or the seed and watch how the gap changes."
