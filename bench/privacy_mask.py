"""Personal-data masking: worst cases at 2,000 / 5,000 / 20,000 characters.

    .venv/bin/python bench/privacy_mask.py [--runs 5] [--old-budget 20]

Times `app.privacy.mask_pii` (median of `--runs`, after a warm-up that loads the Sudachi dictionary)
on adversarial inputs built from what the scanners look at, and reports the ratio 20,000 / 2,000
(≈10 means linear, ≈100 quadratic). The baseline, measured in the same run, is the implementation
this replaced (copied below as `old_mask_pii`), run once per size while its projected time stays
under `--old-budget` seconds (its address pattern backtracks quadratically).
"""

from __future__ import annotations

import argparse
import platform
import random
import re
import statistics
import time
import unicodedata
from collections.abc import Callable

from app.privacy import mask_pii

SIZES = (2_000, 5_000, 20_000)

# --- the implementation before issue 12 (commit 0884802), kept verbatim as the baseline ---
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_TWELVE = re.compile(r"(?<!\d)\d{4}[- ]?\d{4}[- ]?\d{4}(?!\d)")
_PHONE = re.compile(r"(?<!\d)(?:\+81[- ]?|0)\d{1,4}[- (]?\d{1,4}[- )]?\d{3,4}(?!\d)")
_ADDRESS = re.compile(
    r"(?:[一-龥ぁ-んァ-ヶー]{1,8}(?:都|道|府|県))?"
    r"[一-龥ぁ-んァ-ヶー]{1,8}(?:市|区|町|村)"
    r"[一-龥ぁ-んァ-ヶー0-9]*?"
    r"\d+(?:丁目|番地?|号|[-‐－]\d+)(?:[-‐－]?\d+(?:番地?|号)?)*"
)


def old_mask_pii(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    text = _EMAIL.sub("[メール]", text)
    text = _TWELVE.sub("[番号]", text)
    text = _ADDRESS.sub("[住所]", text)
    text = _PHONE.sub("[電話]", text)
    return text


# --- adversarial inputs ---
_MIX = (
    "0123456789０９一二三十百千〇元丁目番地号の-‐−ー－―. ()+/:@axSH〒年月日生まれ電話山田太郎さん市町県[]、"
)


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda n: (unit * (n // len(unit) + 1))[:n]


def _random_mix(n: int) -> str:
    rng = random.Random(12)
    return "".join(rng.choice(_MIX) for _ in range(n))


INPUTS: dict[str, Callable[[int], str]] = {
    "県市 × n (the old quadratic case)": _repeat("県市"),
    "市 + kana, then one digit": lambda n: "吹田市" + "あ" * (n - 5) + "1-",
    "digits": _repeat("1"),
    "digit-hyphen runs": _repeat("1-"),
    "phone-like groups": _repeat("090‐1234‐"),
    "kanji numerals with 丁目": _repeat("一二三丁目"),
    "e-mail-like: a.a.a…@": lambda n: "a." * (n // 2 - 1) + "@x",
    "@ runs: a@a@a…": _repeat("a@"),
    "names: 山田太郎さん、": _repeat("山田太郎さん、"),
    "random mix of the above characters": _random_mix,
}


def timed(func: Callable[[str], str], text: str, runs: int) -> float:
    """Median wall time in ms."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        func(text)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--old-budget", type=float, default=20.0, help="seconds per baseline call")
    args = parser.parse_args()
    mask_pii("山田太郎 090-1234-5678")  # loads the dictionary
    print(f"Python {platform.python_version()} on {platform.machine()}; median of {args.runs} runs\n")
    head = " | ".join(f"{n:,}" for n in SIZES)
    print(f"| input | new ms: {head} | ratio | old ms: {head} | ratio |")
    print("|---|" + "---:|" * (2 * len(SIZES) + 2))
    for name, make in INPUTS.items():
        new = [timed(mask_pii, make(n), args.runs) for n in SIZES]
        old: list[float | None] = []
        for n in SIZES:
            # assume quadratic growth from the previous size; once skipped, larger sizes are too
            last = old[-1] if old else 0.0
            projected = None if last is None else last * (n / SIZES[len(old) - 1]) ** 2 / 1000
            fits = projected is not None and projected <= args.old_budget
            old.append(timed(old_mask_pii, make(n), 1) if fits else None)
        ratio_old = f"{old[-1] / old[0]:.1f}" if old[0] and old[-1] else "—"
        old_cells = " | ".join(f"{t:,.1f}" if t is not None else "skipped" for t in old)
        print(
            f"| {name} | " + " | ".join(f"{t:,.1f}" for t in new) + f" | {new[-1] / new[0]:.1f} | "
            f"{old_cells} | {ratio_old} |"
        )


if __name__ == "__main__":
    main()
