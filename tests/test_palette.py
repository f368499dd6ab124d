"""One colour scheme for every picture: checked as a colour-blind student would see it.

Colour-vision deficiency is simulated with the Machado, Oliveira & Fernandes
(2009) matrices at full severity, and distances are CIE76 ΔE in L*a*b*
(ΔE ≈ 2.3 is "just noticeable"; 15+ is "clearly a different colour").
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import pytest

from capsim import palette
from tests.plot_cases import gids, seed, workload

_CVD = {
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413),
                     (-0.011820, 0.042940, 0.968881)),
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216),
                   (-0.003882, -0.048116, 1.051998)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602),
                   (0.004733, 0.691367, 0.303900)),
}


def _linear(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    c = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c)
    return r, g, b


def _lab(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    r, g, b = rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def _seen(hex_colour: str, vision: str | None) -> tuple[float, float, float]:
    rgb = _linear(hex_colour)
    if vision is not None:
        m = _CVD[vision]
        rgb = tuple(min(1.0, max(0.0, sum(m[i][j] * rgb[j] for j in range(3))))
                    for i in range(3))  # type: ignore[assignment]
    return _lab(rgb)


def _luminance(hex_colour: str) -> float:
    r, g, b = _linear(hex_colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("vision", [None, *_CVD])
def test_value_colours_stay_clearly_apart_for_every_kind_of_colour_vision(vision):
    for a, b in itertools.combinations(palette.VALUE_COLOURS, 2):
        d = math.dist(_seen(a, vision), _seen(b, vision))
        assert d >= 15, f"{a} and {b} look alike ({vision or 'normal vision'}): ΔE {d:.1f}"
    # Refused bars and "other values" are told apart from values too (they
    # also carry ✗ / the value's name, so a smaller distance is enough).
    for v in palette.VALUE_COLOURS:
        for other in (palette.FAIL_FILL, palette.OTHER_VALUE):
            assert math.dist(_seen(v, vision), _seen(other, vision)) >= 9


@pytest.mark.parametrize("vision", [None, *_CVD])
def test_policies_are_dark_values_are_light_and_policies_differ(vision):
    values = list(palette.VALUE_COLOURS)
    policies = [s["colour"] for s in palette.POLICY_STYLES.values()]
    policies += list(palette.EXTRA_POLICY_COLOURS)
    # Lightness alone separates the two families (it survives every CVD and greyscale).
    assert max(_luminance(p) for p in policies) < 0.1 < 0.2 < min(_luminance(v) for v in values)
    assert not set(values) & set(policies)
    # Each policy also has its own marker and dash, so lines differ without colour.
    looks = {(s["marker"], s["dash"]) for s in palette.POLICY_STYLES.values()}
    assert len(looks) == len(palette.POLICY_STYLES)
    for a, b in itertools.combinations(list(palette.POLICY_STYLES.values()), 2):
        assert math.dist(_seen(a["colour"], vision), _seen(b["colour"], vision)) >= 8


def test_message_kinds_are_darker_than_every_value():
    assert not set(palette.KIND_COLOURS) & set(palette.VALUE_COLOURS)
    assert max(_luminance(k) for k in palette.KIND_COLOURS) < min(
        _luminance(v) for v in palette.VALUE_COLOURS)


def test_the_palette_is_plain_data_readable_without_matplotlib():
    code = ("import sys, capsim.palette as p; "
            "assert p.VALUE_COLOURS and p.POLICY_STYLES['cp']['colour']; "
            "assert 'matplotlib' not in sys.modules and 'numpy' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_pictures_read_their_colours_from_the_palette():
    from capsim.plot import style

    for name in ("VALUE_COLOURS", "STALE", "VIOLATION", "FAIL_FILL", "PARTITION_SHADE",
                 "KIND_COLOURS", "OTHER_VALUE"):
        assert getattr(style, name) is getattr(palette, name)


def test_series_styles_never_give_two_lines_the_same_look():
    styles = palette.series_styles(["cp", "ap", "quorum N=3 R=1 W=1", "raft", "1", "2"])
    assert styles["cp"] == palette.POLICY_STYLES["cp"]
    assert styles["quorum N=3 R=1 W=1"] == palette.POLICY_STYLES["quorum"]
    looks = [(s["colour"], s["marker"]) for s in styles.values()]
    assert len(set(looks)) == len(looks)


def test_in_a_busy_timeline_a_colour_never_names_two_values_at_once():
    from capsim.plot.style import OTHER_VALUE, ValueColours

    r = workload("ap")
    colours = ValueColours([r])
    life = colours.lifetimes()
    assert len(life) > len(palette.VALUE_COLOURS)  # more values than colours
    by_colour: dict[str, list[tuple[float, float]]] = {}
    for t0, t1, c in life.values():
        if c != OTHER_VALUE:
            by_colour.setdefault(c, []).append((t0, t1))
    assert any(len(v) > 1 for v in by_colour.values())  # colours are reused…
    for spans in by_colour.values():  # …but never by two values alive together
        spans.sort()
        for (a0, a1), (b0, b1) in itertools.pairwise(spans):
            assert b0 > a1, f"two values share a colour while both are drawn: {a0, a1, b0, b1}"


def test_a_value_keeps_its_colour_in_every_lane_and_panel():
    from matplotlib.colors import to_hex

    from capsim.plot import compare

    fig = compare([seed("cp"), seed("ap")])
    fills: dict[str, set[str]] = {}
    for ax in fig.axes:
        names = {t.get_gid().removeprefix("bandlabel:"): t.get_text()
                 for t in gids(ax, "bandlabel:")}
        for band in gids(ax, "band:"):
            name = names.get(band.get_gid().removeprefix("band:"))
            if name:
                fills.setdefault(name, set()).add(to_hex(band.get_facecolor()))
    assert fills["v0"] == {palette.VALUE_COLOURS[0].lower()}
    assert fills["v1"] == {palette.VALUE_COLOURS[1].lower()}
